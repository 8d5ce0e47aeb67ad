/* fuzz_agent_input: the bytes the agent reads from outside its own trust: the host's ack
 * (ack_parse) and /proc/self/mountinfo text (credstore_parse_mountinfo). The first byte
 * picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credstore.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct ack ack;
		if (ack_parse((const char *)data + 1, size - 1, &ack) == 0)
			ack_free(&ack);
		return 0;
	}
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	struct credstore s;
	memset(&s, 0, sizeof s);
	if (credstore_parse_mountinfo(text, CREDSTORE_PATH, &s) == 0)
		(void)credstore_judge(&s, 252);
	credstore_free(&s);
	free(text);
	return 0;
}

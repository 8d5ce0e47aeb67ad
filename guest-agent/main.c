/* Placeholder main(): replaced by the module's real entry point. */
#include <stdio.h>
int main(void)
{
	fputs("not built yet\n", stderr);
	return 2;
}

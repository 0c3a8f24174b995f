/* exit and abort: the ways a program ends besides returning from main. */
#include <stdio.h>
#include <stdlib.h>

#include <mica/mica.h>

#include "user/lib/lib.h"

void exit(int status)
{
	stdout_flush();
	mica_exit(status);
}

void abort(void)
{
	puts("abort");
	exit(134);
}

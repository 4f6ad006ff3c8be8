/* img_pull.c - placeholder until its commands land. */
#include "cli/berth.h"

int cmd_pull(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_push(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}


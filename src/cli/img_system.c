/* img_system.c - placeholder until its commands land. */
#include "cli/berth.h"

int cmd_system_df(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_system_check(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}


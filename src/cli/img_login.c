/* img_login.c - placeholder until its commands land. */
#include "cli/berth.h"

int cmd_login(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_logout(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}


/* img_archive.c - placeholder until its commands land. */
#include "cli/berth.h"

int cmd_save(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_load(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_import(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}


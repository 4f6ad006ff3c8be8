/* img_list.c - placeholder until its commands land. */
#include "cli/berth.h"

int cmd_images(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_rmi(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_tag(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_image_inspect(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_image_history(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}

int cmd_image_prune(int argc, char **argv)
{
	return berth_usage_error(argv[0], "not built yet");
}


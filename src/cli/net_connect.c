/* net_connect.c - `berth network connect` and `disconnect`: a container
 * joins or leaves a network, at once when it runs, else at its next start.
 *
 *   cmd_network_connect()     [--ip A] [--ip6 A] [--alias N]... NETWORK CONTAINER
 *   cmd_network_disconnect()  [-f] NETWORK CONTAINER
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "engine/engine.h"

int cmd_network_connect(int argc, char **argv)
{
	enum { O_IP = 1, O_IP6, O_ALIAS, O_LINK, O_LINK_LOCAL, O_DRIVER_OPT };
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, O_IP },
		{ "ip6", required_argument, NULL, O_IP6 },
		{ "alias", required_argument, NULL, O_ALIAS },
		{ "link", required_argument, NULL, O_LINK },
		{ "link-local-ip", required_argument, NULL, O_LINK_LOCAL },
		{ "driver-opt", required_argument, NULL, O_DRIVER_OPT },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *cfg = json_object();
	json_t *ipam = json_object(), *aliases = json_array();
	json_object_set_new(cfg, "IPAMConfig", ipam);
	json_object_set_new(cfg, "Aliases", aliases);
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case O_IP: json_object_set_new(ipam, "IPv4Address", json_string(optarg)); break;
		case O_IP6: json_object_set_new(ipam, "IPv6Address", json_string(optarg)); break;
		case O_ALIAS: json_array_append_new(aliases, json_string(optarg)); break;
		case O_LINK:
		case O_LINK_LOCAL:
		case O_DRIVER_OPT:
			return berth_usage_error(argv[0], "--%s is not supported",
						 opts[c - 1].name);
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return berth_usage_error(argv[0], "\"connect\" requires exactly 2 arguments.");
	if (json_object_size(ipam) == 0)
		json_object_del(cfg, "IPAMConfig");
	if (json_array_size(aliases) == 0)
		json_object_del(cfg, "Aliases");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e || ctr_net_connect(e, argv[optind + 1], argv[optind], cfg, &err) < 0)
		return berth_fail(&err);
	return 0;
}

int cmd_network_disconnect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		force = true;
	}
	if (argc - optind != 2)
		return berth_usage_error(argv[0], "\"disconnect\" requires exactly 2 arguments.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e || ctr_net_disconnect(e, argv[optind + 1], argv[optind], force, &err) < 0)
		return berth_fail(&err);
	return 0;
}

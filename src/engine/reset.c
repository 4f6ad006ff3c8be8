/* reset.c - `berth system reset`: everything of this state root that lives
 * outside its directories goes first, so that removing the directories
 * afterwards leaves nothing of Berth's on the machine.
 *
 *   engine_reset()   remove every container (killing the running ones) with
 *                    its anonymous volumes, and tear down every network's
 *                    bridge, nftables rules and DNS responder; then the
 *                    shared `inet berth` table when no state root uses it
 */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "engine/engine_internal.h"
#include "engine/network.h"
#include "net/nft.h"

int engine_reset(struct engine *e, berth_err *err)
{
	_cleanup_json_ json_t *ctrs = NULL, *nets = NULL;
	int r, first = 0;
	if ((r = ctr_list(e, &ctrs, err)) < 0)
		return r;
	size_t i;
	json_t *c;
	json_array_foreach (ctrs, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));
		_cleanup_err_ berth_err e2 = BERTH_ERR_INIT;
		if (id && (r = ctr_remove(e, id, true, true, &e2)) < 0 && r != -ENOENT && !first)
			first = berth_error_code(err, -r, "%s", e2.msg);
	}
	if ((r = network_list(e, &nets, err)) < 0)
		return r;
	json_t *n;
	json_array_foreach (nets, i, n) {
		const char *id = json_string_value(json_object_get(n, "Id"));
		const char *drv = json_string_value(json_object_get(n, "Driver")) ?: "";
		_cleanup_network_info_ struct network_info info = { 0 };
		_cleanup_err_ berth_err e2 = BERTH_ERR_INIT;
		if (!id || strcmp(drv, "bridge") != 0 || network_get(e, id, &info, &e2) < 0)
			continue;
		if ((r = ctr_net_teardown(e, id, info.bridge, &e2)) < 0 && !first)
			first = berth_error_code(err, -r, "%s", e2.msg);
	}
	/* The shared table too, when no other state root uses it. */
	_cleanup_err_ berth_err e3 = BERTH_ERR_INIT;
	if ((r = nft_remove_if_unused(&e3)) < 0 && !first)
		first = berth_error_code(err, -r, "%s", e3.msg);
	return first;
}

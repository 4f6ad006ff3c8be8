/* test_format.c - docker's --format templates and tables, and the units the
 * docker CLI prints, checked against what docker itself prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"

static const char *doc =
	"{\"Id\":\"sha256:abc\",\"RepoTags\":[\"busybox:latest\",\"busybox:1\"],"
	"\"Config\":{\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"z\":\"last\",\"a\":\"first\"},"
	"\"Cmd\":null,\"User\":\"\"},\"Size\":4261550,\"Empty\":[]}";

/* Render tpl over doc; returns the output (static buffer) or the error. */
static char out[4096];
static const char *render(const char *tpl)
{
	json_error_t je;
	json_t *v = json_loads(doc, 0, &je);
	assert_non_null(v);
	struct fmt_template *t = NULL;
	berth_err err = BERTH_ERR_INIT;
	struct strbuf sb = STRBUF_INIT;
	if (fmt_compile(tpl, NULL, &t, &err) < 0 || fmt_render(t, v, &sb, &err) < 0)
		snprintf(out, sizeof(out), "ERR %s", err.msg);
	else
		snprintf(out, sizeof(out), "%s", sb.buf);
	strbuf_release(&sb);
	berth_err_clear(&err);
	fmt_free(t);
	json_decref(v);
	return out;
}

static void test_fields(void **state)
{
	(void)state;
	assert_string_equal(render("{{.Id}}"), "sha256:abc");
	assert_string_equal(render("id={{ .Id }}!"), "id=sha256:abc!");
	assert_string_equal(render("{{.Size}}"), "4261550");
	assert_string_equal(render("{{.RepoTags}}"), "[busybox:latest busybox:1]");
	/* Go prints maps with sorted keys */
	assert_string_equal(render("{{.Config.Labels}}"), "map[a:first z:last]");
	assert_string_equal(render("{{.Config.Cmd}}"), "<nil>");
	assert_string_equal(render("{{.Config.Missing}}"), "<no value>");
	assert_string_equal(render("{{.Empty}}"), "[]");
}

static void test_functions(void **state)
{
	(void)state;
	assert_string_equal(render("{{json .RepoTags}}"), "[\"busybox:latest\",\"busybox:1\"]");
	assert_string_equal(render("{{json .Config.Labels}}"), "{\"z\":\"last\",\"a\":\"first\"}");
	assert_string_equal(render("{{index .RepoTags 1}}"), "busybox:1");
	assert_string_equal(render("{{index .Config.Labels \"a\"}}"), "first");
	assert_string_equal(render("{{join .Config.Env \",\"}}"), "A=1,B=2");
	assert_string_equal(render("{{upper .Id}}"), "SHA256:ABC");
	assert_string_equal(render("{{len .RepoTags}}"), "2");
	assert_string_equal(render("{{println .Id}}"), "sha256:abc\n");
	assert_string_equal(render("{{split .Id \":\"}}"), "[sha256 abc]");
	assert_string_equal(render("{{truncate .Id 6}}"), "sha256");
	assert_string_equal(render("{{index .RepoTags 5}}"),
			    "ERR template: executing \"index\": index out of range");
}

static void test_control(void **state)
{
	(void)state;
	assert_string_equal(render("{{range .RepoTags}}<{{.}}>{{end}}"), "<busybox:latest><busybox:1>");
	assert_string_equal(render("{{range .Empty}}x{{else}}none{{end}}"), "none");
	assert_string_equal(render("{{if .Config.User}}u{{else}}root{{end}}"), "root");
	assert_string_equal(render("{{if .RepoTags}}tagged{{end}}"), "tagged");
	assert_string_equal(render("a  {{- .Size -}}  b"), "a4261550b");
	/* the command line's literal \t and \n */
	assert_string_equal(render("{{.Id}}\\t{{.Size}}\\n"), "sha256:abc\t4261550\n");
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(render("{{.Id"), "ERR template parsing error: at column 1: unclosed action");
	assert_string_equal(render("{{nosuch .Id}}"),
			    "ERR template parsing error: function \"nosuch\" not defined");
	assert_string_equal(render("{{range .RepoTags}}x"),
			    "ERR template parsing error: at column 21: unexpected EOF: range without end");
	assert_string_equal(render("x{{end}}"), "ERR template parsing error: at column 2: unexpected {{end}}");
}

static void test_table(void **state)
{
	(void)state;
	static const char *const names[] = { "ID", "IMAGE ID", NULL };
	struct fmt_template *t = NULL;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(fmt_compile("table {{.Repository}}\\t{{.ID}}\\t{{.Size}}", names, &t, &err), 0);
	assert_true(fmt_is_table(t));
	struct strbuf sb = STRBUF_INIT;
	fmt_header(t, &sb);
	assert_string_equal(sb.buf, "REPOSITORY\tIMAGE ID\tSIZE");
	struct table *tab = table_new();
	table_add(tab, sb.buf);
	table_add(tab, "busybox\tabcdef012345\t4.26MB");
	table_add(tab, "a-much-longer-repository\tx\t1B");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	table_print(tab, f);
	fclose(f);
	/* docker's tabwriter: minimum width 10, padding 3, last column unpadded */
	assert_string_equal(buf, "REPOSITORY                 IMAGE ID       SIZE\n"
				 "busybox                    abcdef012345   4.26MB\n"
				 "a-much-longer-repository   x              1B\n");
	free(buf);
	table_free(tab);
	strbuf_release(&sb);
	fmt_free(t);
}

static void test_units(void **state)
{
	(void)state;
	const struct {
		double bytes;
		const char *want;
	} sizes[] = { { 0, "0B" }, { 999, "999B" }, { 1000, "1kB" }, { 4261550, "4.26MB" },
		      { 1234567890, "1.23GB" }, { 72800000, "72.8MB" } };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		_cleanup_free_ char *s = human_size(sizes[i].bytes);
		assert_string_equal(s, sizes[i].want);
	}
	const struct {
		time_t d;
		const char *want;
	} durs[] = { { 0, "Less than a second" }, { 1, "1 second" }, { 59, "59 seconds" },
		     { 60, "About a minute" }, { 3599, "59 minutes" }, { 3600, "About an hour" },
		     { 47 * 3600, "47 hours" }, { 48 * 3600, "2 days" }, { 14 * 86400, "2 weeks" },
		     { 60 * 86400, "2 months" }, { 3 * 365 * 86400, "3 years" } };
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		_cleanup_free_ char *s = human_duration(durs[i].d);
		assert_string_equal(s, durs[i].want);
	}
	time_t t;
	assert_int_equal(time_parse_rfc3339("2024-01-02T03:04:05Z", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(time_parse_rfc3339("2024-01-02T05:04:05.123456789+02:00", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_true(time_parse_rfc3339("2024-01-02", &t) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields), cmocka_unit_test(test_functions),
		cmocka_unit_test(test_control), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_table),	cmocka_unit_test(test_units),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

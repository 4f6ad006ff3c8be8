/* format.h - docker's --format: a Go text/template subset, and tables.
 *
 * Templates render JSON values (jansson), so one row type serves
 * `images`, `ps`, `inspect` and the rest. Supported, as docker users write
 * them: text with {{.Field}}, {{.A.B}}, {{.}}, {{json .X}}, {{index .X 0}},
 * {{index .X "key"}}, {{join .X ", "}}, {{upper .X}}, {{lower .X}},
 * {{len .X}}, {{println .X}}, {{range .X}}...{{end}}, {{if .X}}...{{else}}...{{end}},
 * the "-" trim markers ({{- and -}}), and "\t" / "\n" escapes as the docker CLI
 * accepts them on the command line. Values print as Go prints them: strings
 * raw, arrays as [a b], objects as map[k:v], null as <no value>.
 * A "table " prefix makes a header row of the fields' column names and aligns
 * the columns like docker's tabwriter (minimum width 10, padding 3).
 *
 *   fmt_compile()        parse a template; error names the position
 *   fmt_render()         render one value, appending to sb
 *   fmt_free()
 *   fmt_print()          render an array of rows (with the header row for a
 *                        table template) and print them aligned
 *   fmt_inspect()        docker's `inspect` output for a list of names
 *   table_new/row/print  aligned columns (tabs separate cells)
 */
#ifndef BERTH_CLI_FORMAT_H
#define BERTH_CLI_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "common/strbuf.h"

struct fmt_template;

/* header_names maps field names to column titles ("ID" -> "IMAGE ID"); a
 * NULL-terminated list of pairs, or NULL (titles are the names uppercased). */
int fmt_compile(const char *text, const char *const *header_names, struct fmt_template **out,
		berth_err *err);
bool fmt_is_table(const struct fmt_template *t);
/* The header row of a table template (cells separated by tabs). */
void fmt_header(const struct fmt_template *t, struct strbuf *sb);
int fmt_render(const struct fmt_template *t, json_t *v, struct strbuf *sb, berth_err *err);
void fmt_free(struct fmt_template *t);
int fmt_print(const struct fmt_template *t, json_t *rows, FILE *f, berth_err *err);

/* What `inspect` prints for names: each object get() returns rendered by the
 * format, or (format NULL) all of them as one indented JSON array; a name get()
 * fails on gives an "Error: <message>" line on stderr after the output. Returns
 * 0, 1 when a name failed, or -1 with err set when the format is bad. */
typedef json_t *(*fmt_inspect_get)(const char *name, void *opaque, berth_err *err);
int fmt_inspect(const char *format, char *const *names, int n, fmt_inspect_get get, void *opaque,
		berth_err *err);

struct table;
struct table *table_new(void);
/* line: cells separated by '\t'; may hold several lines. */
void table_add(struct table *t, const char *line);
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

#endif

/* format.c - a Go text/template subset over JSON values, and docker's tables. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"

enum node_kind { N_TEXT, N_ACTION, N_RANGE, N_IF };

/* An argument: a field path (".A.B", "." is the dot itself) or a literal. */
struct arg {
	bool is_path;
	char **path; /* field names; empty for "." */
	json_t *literal;
};

struct node {
	enum node_kind kind;
	char *text; /* N_TEXT */
	char *func; /* N_ACTION/N_RANGE/N_IF: a function name, or NULL for a plain value */
	struct arg *args;
	size_t n_args;
	struct node *body; /* N_RANGE, N_IF: a list */
	struct node *alt;  /* {{else}} part */
	struct node *next;
};

struct fmt_template {
	bool table;
	struct node *nodes;
	const char *const *header_names;
};

static size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

static void nodes_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		free(n->text);
		free(n->func);
		for (size_t i = 0; i < n->n_args; i++) {
			strv_free(n->args[i].path);
			json_decref(n->args[i].literal);
		}
		free(n->args);
		nodes_free(n->body);
		nodes_free(n->alt);
		free(n);
		n = next;
	}
}

void fmt_free(struct fmt_template *t)
{
	if (!t)
		return;
	nodes_free(t->nodes);
	free(t);
}

bool fmt_is_table(const struct fmt_template *t)
{
	return t->table;
}

/* ---- parsing ----------------------------------------------------------------- */

struct parser {
	const char *src;
	const char *p;
	const char *stop_at; /* where the {{end}} / {{else}} that ended a list is */
	berth_err *err;
};

static int perr(struct parser *ps, const char *what)
{
	return berth_error_code(ps->err, EINVAL, "template parsing error: at column %zu: %s",
				(size_t)(ps->p - ps->src) + 1, what);
}

/* The text of the command-line template: docker turns "\t" and "\n" typed
 * literally into tabs and newlines. */
static char *unescape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 't') {
			strbuf_addch(&sb, '\t');
			s++;
		} else if (s[0] == '\\' && s[1] == 'n') {
			strbuf_addch(&sb, '\n');
			s++;
		} else {
			strbuf_addch(&sb, *s);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

/* Parse one argument at *p inside an action ending at end. */
static int parse_arg(struct parser *ps, const char **p, const char *end, struct arg *a)
{
	memset(a, 0, sizeof(*a));
	if (**p == '.') {
		a->is_path = true;
		size_t n = 0;
		a->path = xcalloc(1, sizeof(char *));
		(*p)++;
		while (*p < end) {
			const char *s = *p;
			while (*p < end && (isalnum((unsigned char)**p) || **p == '_'))
				(*p)++;
			if (*p > s) {
				a->path = xrealloc(a->path, (n + 2) * sizeof(char *));
				a->path[n++] = xstrndup(s, (size_t)(*p - s));
				a->path[n] = NULL;
			}
			if (*p < end && **p == '.') {
				(*p)++;
				continue;
			}
			break;
		}
		return 0;
	}
	if (**p == '"') {
		struct strbuf sb = STRBUF_INIT;
		(*p)++;
		while (*p < end && **p != '"') {
			if (**p == '\\' && *p + 1 < end) {
				(*p)++;
				strbuf_addch(&sb, **p == 'n' ? '\n' : **p == 't' ? '\t' : **p);
			} else {
				strbuf_addch(&sb, **p);
			}
			(*p)++;
		}
		if (*p >= end) {
			strbuf_release(&sb);
			return perr(ps, "unterminated quoted string");
		}
		(*p)++;
		a->literal = json_string(sb.buf);
		strbuf_release(&sb);
		return 0;
	}
	if (isdigit((unsigned char)**p) || **p == '-') {
		char *e;
		errno = 0;
		long long v = strtoll(*p, &e, 10);
		if (errno || e == *p || e > end)
			return perr(ps, "bad number");
		*p = e;
		a->literal = json_integer(v);
		return 0;
	}
	return perr(ps, "unexpected argument");
}

static const char *const funcs[] = { "json",    "index", "join",  "upper",    "lower", "len",
				     "println", "title", "split", "truncate", "pad",   NULL };

static int parse_list(struct parser *ps, struct node **out, const char **stop_word);

/* Parse the inside of {{ }} from s to e (trim markers already removed) into
 * n's func and args. */
static int parse_pipeline(struct parser *ps, const char *s, const char *e, struct node *n)
{
	const char *p = s;
	skip_space(&p);
	if (p < e && isalpha((unsigned char)*p)) {
		const char *w = p;
		while (p < e && (isalnum((unsigned char)*p) || *p == '_'))
			p++;
		_cleanup_free_ char *name = xstrndup(w, (size_t)(p - w));
		bool known = false;
		for (size_t i = 0; funcs[i]; i++)
			known |= strcmp(funcs[i], name) == 0;
		if (!known) {
			ps->p = w;
			return berth_error_code(
				ps->err, EINVAL,
				"template parsing error: function \"%s\" not defined", name);
		}
		n->func = TAKE_PTR(name);
	}
	for (;;) {
		skip_space(&p);
		if (p >= e)
			break;
		n->args = xrealloc(n->args, (n->n_args + 1) * sizeof(*n->args));
		ps->p = p;
		int r = parse_arg(ps, &p, e, &n->args[n->n_args]);
		if (r < 0)
			return r;
		n->n_args++;
	}
	if (!n->func && n->n_args != 1) {
		ps->p = s;
		return perr(ps, n->n_args ? "more than one value in an action"
					  : "missing value for command");
	}
	return 0;
}

/* Parse nodes until EOF or a {{end}} / {{else}} (returned in *stop_word). */
static int parse_list(struct parser *ps, struct node **out, const char **stop_word)
{
	struct node **tail = out;
	*stop_word = NULL;
	bool trim_next = false;
	while (*ps->p) {
		const char *open = strstr(ps->p, "{{");
		const char *text_end = open ? open : ps->p + strlen(ps->p);
		const char *ts = ps->p;
		if (trim_next)
			while (ts < text_end && isspace((unsigned char)*ts))
				ts++;
		const char *te = text_end;
		bool trim_before = open && open[2] == '-' &&
				   (open[3] == ' ' || open[3] == '\t' || open[3] == '\n');
		if (trim_before)
			while (te > ts && isspace((unsigned char)te[-1]))
				te--;
		if (te > ts) {
			struct node *n = xcalloc(1, sizeof(*n));
			n->kind = N_TEXT;
			n->text = xstrndup(ts, (size_t)(te - ts));
			*tail = n;
			tail = &n->next;
		}
		if (!open) {
			ps->p = text_end;
			break;
		}
		const char *s = open + 2 + (trim_before ? 1 : 0);
		const char *close = strstr(s, "}}");
		if (!close) {
			ps->p = open;
			return perr(ps, "unclosed action");
		}
		const char *e = close;
		trim_next = e > s && e[-1] == '-' && e - 1 > s && isspace((unsigned char)e[-2]);
		if (trim_next)
			e--;
		ps->p = close + 2;
		const char *w = s;
		skip_space(&w);
		size_t wl = 0;
		while (w + wl < e && isalpha((unsigned char)w[wl]))
			wl++;
		if ((wl == 3 && strncmp(w, "end", 3) == 0) ||
		    (wl == 4 && strncmp(w, "else", 4) == 0)) {
			*stop_word = wl == 3 ? "end" : "else";
			ps->stop_at = open;
			return 0;
		}
		const char *after = ps->p;
		struct node *n = xcalloc(1, sizeof(*n));
		*tail = n;
		tail = &n->next;
		if ((wl == 5 && strncmp(w, "range", 5) == 0) ||
		    (wl == 2 && strncmp(w, "if", 2) == 0)) {
			n->kind = wl == 5 ? N_RANGE : N_IF;
			int r = parse_pipeline(ps, w + wl, e, n);
			if (r < 0)
				return r;
			ps->p = after;
			const char *stop;
			if ((r = parse_list(ps, &n->body, &stop)) < 0)
				return r;
			if (stop && strcmp(stop, "else") == 0 &&
			    (r = parse_list(ps, &n->alt, &stop)) < 0)
				return r;
			if (!stop || strcmp(stop, "end") != 0)
				return perr(ps, wl == 5 ? "unexpected EOF: range without end"
							: "unexpected EOF: if without end");
			continue;
		}
		n->kind = N_ACTION;
		int r = parse_pipeline(ps, s, e, n);
		if (r < 0)
			return r;
		ps->p = after;
	}
	return 0;
}

int fmt_compile(const char *text, const char *const *header_names, struct fmt_template **out,
		berth_err *err)
{
	struct fmt_template *t = xcalloc(1, sizeof(*t));
	t->header_names = header_names;
	if (strncmp(text, "table", 5) == 0 && (text[5] == ' ' || text[5] == '\0')) {
		t->table = true;
		text += text[5] ? 6 : 5;
	}
	_cleanup_free_ char *src = unescape(text);
	struct parser ps = { .src = src, .p = src, .err = err };
	const char *stop;
	int r = parse_list(&ps, &t->nodes, &stop);
	if (r == 0 && stop) {
		ps.p = ps.stop_at;
		r = perr(&ps, stop[1] == 'n' ? "unexpected {{end}}" : "unexpected {{else}}");
	}
	if (r < 0) {
		fmt_free(t);
		return r;
	}
	*out = t;
	return 0;
}

/* ---- evaluation ----------------------------------------------------------------- */

/* A new reference to the value of a, or NULL when a field is missing. */
static json_t *eval_arg(const struct arg *a, json_t *dot)
{
	if (!a->is_path)
		return json_incref(a->literal);
	json_t *v = dot;
	for (size_t i = 0; a->path[i] && v; i++)
		v = json_is_object(v) ? json_object_get(v, a->path[i]) : NULL;
	return json_incref(v);
}

/* Go's fmt %v of a value. */
static void print_value(json_t *v, struct strbuf *sb)
{
	if (!v) {
		strbuf_addstr(sb, "<no value>");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING: strbuf_add(sb, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: strbuf_addf(sb, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: strbuf_addf(sb, "%g", json_real_value(v)); break;
	case JSON_TRUE: strbuf_addstr(sb, "true"); break;
	case JSON_FALSE: strbuf_addstr(sb, "false"); break;
	case JSON_NULL: strbuf_addstr(sb, "<nil>"); break;
	case JSON_ARRAY: {
		strbuf_addch(sb, '[');
		size_t i;
		json_t *e;
		json_array_foreach (v, i, e) {
			if (i)
				strbuf_addch(sb, ' ');
			print_value(e, sb);
		}
		strbuf_addch(sb, ']');
		break;
	}
	case JSON_OBJECT: {
		/* Go prints maps with sorted keys. */
		_cleanup_json_ json_t *sorted = json_object_sorted(v);
		const char *key;
		json_t *e;
		bool first = true;
		strbuf_addstr(sb, "map[");
		json_object_foreach (sorted, key, e) {
			if (!first)
				strbuf_addch(sb, ' ');
			first = false;
			strbuf_addf(sb, "%s:", key);
			print_value(e, sb);
		}
		strbuf_addch(sb, ']');
		break;
	}
	}
}

static bool truthy(json_t *v)
{
	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return true;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return json_object_size(v) > 0;
	default: return false;
	}
}

static char *value_string(json_t *v)
{
	struct strbuf sb = STRBUF_INIT;
	print_value(v, &sb);
	return strbuf_detach(&sb, NULL);
}

static int func_err(berth_err *err, const char *f, const char *why)
{
	return berth_error_code(err, EINVAL, "template: executing \"%s\": %s", f, why);
}

/* Evaluate an action's pipeline to a new reference (NULL = no value). */
static int eval_pipeline(const struct node *n, json_t *dot, json_t **out, berth_err *err)
{
	*out = NULL;
	if (!n->func) {
		*out = eval_arg(&n->args[0], dot);
		return 0;
	}
	const char *f = n->func;
	json_t *a[3] = { NULL, NULL, NULL };
	for (size_t i = 0; i < n->n_args && i < 3; i++)
		a[i] = eval_arg(&n->args[i], dot);
	int r = 0;
	json_t *res = NULL;
	if (strcmp(f, "json") == 0) {
		char *s = a[0] ? json_dumps(a[0],
					    JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)
			       : xstrdup("null");
		res = json_string(s ? s : "null");
		free(s);
	} else if (strcmp(f, "index") == 0) {
		if (json_is_array(a[0]) && json_is_integer(a[1])) {
			json_int_t i = json_integer_value(a[1]);
			if (i < 0 || (size_t)i >= json_array_size(a[0]))
				r = func_err(err, f, "index out of range");
			else
				res = json_incref(json_array_get(a[0], (size_t)i));
		} else if (json_is_object(a[0]) && json_is_string(a[1])) {
			res = json_incref(json_object_get(a[0], json_string_value(a[1])));
		} else if (a[0] && !json_is_null(a[0])) {
			r = func_err(err, f, "can't index item");
		}
	} else if (strcmp(f, "join") == 0) {
		struct strbuf sb = STRBUF_INIT;
		const char *sep = json_is_string(a[1]) ? json_string_value(a[1]) : "";
		size_t i;
		json_t *e;
		json_array_foreach (a[0], i, e) {
			if (i)
				strbuf_addstr(&sb, sep);
			print_value(e, &sb);
		}
		res = json_string(sb.buf);
		strbuf_release(&sb);
	} else if (strcmp(f, "upper") == 0 || strcmp(f, "lower") == 0 || strcmp(f, "title") == 0) {
		_cleanup_free_ char *s = value_string(a[0]);
		bool start = true;
		for (char *p = s; *p; p++) {
			if (f[0] == 'u')
				*p = (char)toupper((unsigned char)*p);
			else if (f[0] == 'l')
				*p = (char)tolower((unsigned char)*p);
			else if (start)
				*p = (char)toupper((unsigned char)*p);
			start = isspace((unsigned char)*p);
		}
		res = json_string(s);
	} else if (strcmp(f, "len") == 0) {
		res = json_integer(json_is_array(a[0])    ? (json_int_t)json_array_size(a[0])
				   : json_is_object(a[0]) ? (json_int_t)json_object_size(a[0])
				   : json_is_string(a[0]) ? (json_int_t)json_string_length(a[0])
							  : 0);
	} else if (strcmp(f, "println") == 0) {
		_cleanup_free_ char *s = value_string(a[0]);
		_cleanup_free_ char *l = xasprintf("%s\n", n->n_args ? s : "");
		res = json_string(l);
	} else if (strcmp(f, "split") == 0) {
		res = json_array();
		_cleanup_free_ char *s = value_string(a[0]);
		const char *sep = json_is_string(a[1]) ? json_string_value(a[1]) : "";
		size_t sl = strlen(sep);
		char *p = s;
		for (char *q; sl && (q = strstr(p, sep)); p = q + sl) {
			*q = '\0';
			json_array_append_new(res, json_string(p));
		}
		json_array_append_new(res, json_string(p));
	} else if (strcmp(f, "truncate") == 0) {
		_cleanup_free_ char *s = value_string(a[0]);
		json_int_t k = json_is_integer(a[1]) ? json_integer_value(a[1]) : 0;
		if (k >= 0 && (size_t)k < strlen(s))
			s[k] = '\0';
		res = json_string(s);
	} else if (strcmp(f, "pad") == 0) {
		_cleanup_free_ char *s = value_string(a[0]);
		json_int_t l = json_is_integer(a[1]) ? json_integer_value(a[1]) : 0;
		json_int_t rr = json_is_integer(a[2]) ? json_integer_value(a[2]) : 0;
		_cleanup_free_ char *p = xasprintf("%*s%s%*s", (int)l, "", s, (int)rr, "");
		res = json_string(p);
	}
	for (size_t i = 0; i < 3; i++)
		json_decref(a[i]);
	if (r < 0) {
		json_decref(res);
		return r;
	}
	*out = res;
	return 0;
}

static int render_list(const struct node *n, json_t *dot, struct strbuf *sb, berth_err *err)
{
	for (; n; n = n->next) {
		if (n->kind == N_TEXT) {
			strbuf_addstr(sb, n->text);
			continue;
		}
		json_t *v;
		int r = eval_pipeline(n, dot, &v, err);
		if (r < 0)
			return r;
		if (n->kind == N_ACTION) {
			print_value(v, sb);
		} else if (n->kind == N_IF) {
			r = render_list(truthy(v) ? n->body : n->alt, dot, sb, err);
		} else if (!truthy(v)) {
			r = render_list(n->alt, dot, sb, err);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach (v, i, e)
				if ((r = render_list(n->body, e, sb, err)) < 0)
					break;
		} else if (json_is_object(v)) {
			const char *k;
			json_t *e;
			json_object_foreach (v, k, e)
				if ((r = render_list(n->body, e, sb, err)) < 0)
					break;
		} else {
			r = func_err(err, "range", "range can't iterate over a value");
		}
		json_decref(v);
		if (r < 0)
			return r;
	}
	return 0;
}

int fmt_render(const struct fmt_template *t, json_t *v, struct strbuf *sb, berth_err *err)
{
	return render_list(t->nodes, v, sb, err);
}

/* The column title of a field: from the caller's map, else the name uppercased. */
static void header_of(const struct fmt_template *t, const struct node *n, struct strbuf *sb)
{
	const struct arg *a = n->n_args ? &n->args[n->n_args - 1] : NULL;
	const char *name = a && a->is_path && a->path[0] ? a->path[strv_len(a->path) - 1] : NULL;
	if (!name)
		return;
	for (size_t i = 0; t->header_names && t->header_names[i]; i += 2)
		if (strcmp(t->header_names[i], name) == 0) {
			strbuf_addstr(sb, t->header_names[i + 1]);
			return;
		}
	for (const char *p = name; *p; p++)
		strbuf_addch(sb, (char)toupper((unsigned char)*p));
}

void fmt_header(const struct fmt_template *t, struct strbuf *sb)
{
	for (const struct node *n = t->nodes; n; n = n->next) {
		if (n->kind == N_TEXT)
			strbuf_addstr(sb, n->text);
		else if (n->kind == N_ACTION)
			header_of(t, n, sb);
	}
}

int fmt_print(const struct fmt_template *t, json_t *rows, FILE *f, berth_err *err)
{
	struct table *tab = table_new();
	struct strbuf sb = STRBUF_INIT;
	if (t->table) {
		fmt_header(t, &sb);
		table_add(tab, sb.buf);
	}
	int r = 0;
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row) {
		strbuf_reset(&sb);
		if ((r = fmt_render(t, row, &sb, err)) < 0)
			break;
		table_add(tab, sb.buf);
	}
	if (r == 0)
		table_print(tab, f);
	table_free(tab);
	strbuf_release(&sb);
	return r;
}

/* ---- tables -------------------------------------------------------------------- */

struct table {
	char **lines;
	size_t n;
};

struct table *table_new(void)
{
	return xcalloc(1, sizeof(struct table));
}

void table_add(struct table *t, const char *line)
{
	const char *p = line;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		t->lines = xrealloc(t->lines, (t->n + 1) * sizeof(char *));
		t->lines[t->n++] = xstrndup(p, len);
		p += len + (nl ? 1 : 0);
	}
}

/* Display width of n bytes of UTF-8. */
static size_t width_of(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

void table_print(struct table *t, FILE *f)
{
	enum { MINWIDTH = 10, PADDING = 3 };
	size_t *widths = NULL, ncols = 0;
	for (size_t i = 0; i < t->n; i++) {
		size_t col = 0;
		for (const char *p = t->lines[i], *tab; (tab = strchr(p, '\t'));
		     p = tab + 1, col++) {
			if (col >= ncols) {
				widths = xrealloc(widths, (col + 1) * sizeof(size_t));
				widths[col] = 0;
				ncols = col + 1;
			}
			size_t w = width_of(p, (size_t)(tab - p)) + PADDING;
			if (w < MINWIDTH)
				w = MINWIDTH;
			if (w > widths[col])
				widths[col] = w;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t col = 0;
		const char *p = t->lines[i], *tab;
		for (; (tab = strchr(p, '\t')); p = tab + 1, col++) {
			size_t w = width_of(p, (size_t)(tab - p));
			fwrite(p, 1, (size_t)(tab - p), f);
			for (; w < widths[col]; w++)
				fputc(' ', f);
		}
		fprintf(f, "%s\n", p);
	}
	free(widths);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	free(t);
}

int fmt_inspect(const char *format, char *const *names, int n, fmt_inspect_get get, void *opaque,
		berth_err *err)
{
	struct fmt_template *t = NULL;
	if (format && fmt_compile(format, NULL, &t, err) < 0)
		return -1;
	_cleanup_json_ json_t *all = json_array();
	_cleanup_strbuf_ struct strbuf errs = STRBUF_INIT;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		berth_err gerr = BERTH_ERR_INIT;
		json_t *o = get(names[i], opaque, &gerr);
		if (!o) {
			strbuf_addf(&errs, "Error: %s\n", gerr.msg ? gerr.msg : "failed");
			berth_err_clear(&gerr);
			rc = 1;
			continue;
		}
		if (t) {
			_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
			if (fmt_render(t, o, &sb, err) < 0) {
				json_decref(o);
				fmt_free(t);
				return -1;
			}
			printf("%s\n", sb.buf ? sb.buf : "");
		}
		json_array_append_new(all, o);
	}
	if (!t) {
		char *dump = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		printf("%s\n", dump ? dump : "[]");
		free(dump);
	}
	fmt_free(t);
	fflush(stdout);
	fputs(errs.buf ? errs.buf : "", stderr);
	return rc;
}

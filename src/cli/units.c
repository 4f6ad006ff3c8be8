/* units.c - numbers and times the way the docker CLI prints them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/units.h"
#include "common/xalloc.h"

char *human_size(double bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	size_t i = 0;
	while (bytes >= 1000 && i + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1000;
		i++;
	}
	return xasprintf("%.3g%s", bytes, units[i]);
}

char *human_duration(time_t d)
{
	long long s = (long long)d;
	if (s < 1)
		return xstrdup("Less than a second");
	if (s == 1)
		return xstrdup("1 second");
	if (s < 60)
		return xasprintf("%lld seconds", s);
	long long m = s / 60, h = s / 3600;
	if (m == 1)
		return xstrdup("About a minute");
	if (m < 60)
		return xasprintf("%lld minutes", m);
	if (h == 1)
		return xstrdup("About an hour");
	if (h < 48)
		return xasprintf("%lld hours", h);
	if (h < 24 * 7 * 2)
		return xasprintf("%lld days", h / 24);
	if (h < 24 * 30 * 2)
		return xasprintf("%lld weeks", h / 24 / 7);
	if (h < 24 * 365 * 2)
		return xasprintf("%lld months", h / 24 / 30);
	return xasprintf("%lld years", h / 24 / 365);
}

int time_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -EINVAL;
		off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*out = timegm(&tm) - off;
	return 0;
}

char *time_go_string(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	char buf[64];
	char zone[16];
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm);
	strftime(zone, sizeof(zone), "%Z", &tm);
	return xasprintf("%s %s", buf, zone);
}

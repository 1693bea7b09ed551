/*
 * auditlog.h - reading audit lines back as a log shipper would (logfmt:
 * key=value pairs, values bare or double-quoted with C escapes; audit.h
 * has the format), for the tests of the audit trail.
 *
 * Everything is `static`, like the other helpers.
 */
#ifndef SX_AUDITLOG_H
#define SX_AUDITLOG_H

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#define AL_UNUSED __attribute__((unused))

typedef struct kv {
	char key[32];
	char val[512];
	size_t vlen;
} kv;

/* Parse "audit k=v k="v" ..." (the part after "audit ") into kvs;
 * returns how many, or -1 when the line is not well formed. */
AL_UNUSED static int parse_audit(const char *line, kv *kvs, int cap)
{
	const char *p = strstr(line, "audit ");
	if (!p)
		return -1;
	p += 6;
	int n = 0;
	while (*p && *p != '\n') {
		if (n == cap)
			return -1;
		kv *e = &kvs[n++];
		size_t k = 0;
		while (*p && *p != '=' && *p != ' ' && *p != '\n' && k < sizeof e->key - 1)
			e->key[k++] = *p++;
		e->key[k] = 0;
		if (*p++ != '=')
			return -1;
		e->vlen = 0;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				char c = *p++;
				if (c == '\n')
					return -1;
				if (c == '\\') {
					char x = *p++;
					if (x == 'n')
						c = '\n';
					else if (x == 't')
						c = '\t';
					else if (x == 'r')
						c = '\r';
					else if (x == 'x' || x == 'u') {
						unsigned v;
						int w = x == 'x' ? 2 : 4;
						char hex[5] = { 0 };
						memcpy(hex, p, (size_t)w);
						if (sscanf(hex, "%x", &v) != 1)
							return -1;
						p += w;
						if (x == 'x') {
							c = (char)v;
						} else if (v < 0x800) {   /* back to UTF-8 */
							e->val[e->vlen++] = (char)(0xc0 | v >> 6);
							c = (char)(0x80 | (v & 0x3f));
						} else {
							e->val[e->vlen++] = (char)(0xe0 | v >> 12);
							e->val[e->vlen++] = (char)(0x80 | ((v >> 6) & 0x3f));
							c = (char)(0x80 | (v & 0x3f));
						}
					} else {
						c = x;
					}
				}
				e->val[e->vlen++] = c;
			}
			if (*p++ != '"')
				return -1;
		} else {
			while (*p && *p != ' ' && *p != '\n') {
				if (*p == '"' || *p == '=')
					return -1;
				e->val[e->vlen++] = *p++;
			}
		}
		e->val[e->vlen] = 0;
		if (*p == ' ')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return n;
}

AL_UNUSED static const kv *find(const kv *kvs, int n, const char *key)
{
	const kv *hit = NULL;
	for (int i = 0; i < n; i++)
		if (!strcmp(kvs[i].key, key)) {
			cr_assert_null(hit, "key %s twice", key);
			hit = &kvs[i];
		}
	return hit;
}

#endif

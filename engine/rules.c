/*
 * rules.c - the rule table (rules.h): SPEC section 4's default, the
 * operator's table parsed and written, the check of a stored one, and the
 * effect of a (channel, class).
 *
 * The default is a constant the compiler builds from the catalogue's
 * X-macros, so a measure added there is in the default table with nothing
 * written here.  The operator's text format is line by line, each line
 * changing only what it names, and sx_rules_write() writes a table back
 * in an order that parses to the same bytes (added classes keep their
 * indices), because the snapshot stores the table and `sxgate-build
 * --print-rules` shows it: the two must be the same table.
 *
 * Classes of the joint channels are kept by name in a flat array (the
 * default ones, then the added ones): a query's class is its index, found
 * by a linear scan of at most SX_RULES_MAX_CLASSES names, which only
 * queries of the four classed joint channels pay.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

static const struct { const char *name; char letter; } seats[] = {
#define X(e, name, letter) { name, letter },
	SX_SEATS(X)
#undef X
};
static const char *const ship_classes[] = {
	"special", "first", "second", "third", "fourth"
};

/* SPEC section 4's table, built by the compiler from the catalogue. */
#define SLEEPERS (1u << SX_SEAT_SOFT_SLEEPER | 1u << SX_SEAT_DELUXE_SOFT_SL)
static const sx_rules default_rules = {
	.rail = {
		[SX_TRAIN_G] = (1u << SX_NSEATS) - 1,
		[SX_TRAIN_DCS] = SLEEPERS | 1u << SX_SEAT_BUSINESS |
		                 1u << SX_SEAT_PREMIUM | 1u << SX_SEAT_FIRST |
		                 1u << SX_SEAT_EMU_SLEEPER,
		[SX_TRAIN_OTHER] = SLEEPERS,
	},
	.ship = 0x07,       /* special, first, second */
	.hotel = 0x3e,      /* 1 to 5 stars */
	.effect = {
#define X(e, code, chan, kind, rel, cls, eff) [e] = eff,
		SX_CODES(X)
#undef X
	},
	.nclasses = 0
#define X(chan, name, eff) + 1
		SX_JCLASSES(X)
#undef X
	,
	.cls = {
#define X(chan, name, eff) { name, chan, eff },
		SX_JCLASSES(X)
#undef X
	},
};

void sx_rules_default(sx_rules *r)
{
	memcpy(r, &default_rules, sizeof(*r));
}

const sx_rules *sx_rules_default_table(void)
{
	return &default_rules;
}

/* Rail, ship and hotel keep masks of their restricted classes; the
 * others an effect per class-less channel or per class. */
int sx_rules_effect(const sx_rules *r, int chan, uint16_t cls)
{
	switch (chan) {
	case SX_C_RAIL:
		return (r->rail[(cls >> 4) % SX_NTRAINS] >> (cls & 15)) & 1 ?
		       SX_EFF_DENY : SX_EFF_NONE;
	case SX_C_SHIP:
		return (r->ship >> (cls & 7)) & 1 ? SX_EFF_DENY : SX_EFF_NONE;
	case SX_C_HOTEL:
		return (r->hotel >> (cls & 7)) & 1 ? SX_EFF_DENY : SX_EFF_NONE;
	}
	if (cls == SX_CLASS_NONE)
		return r->effect[chan];
	return cls < r->nclasses ? r->cls[cls].effect : SX_EFF_NONE;
}

/* ---- classes ------------------------------------------------------------ */

int sx_seat_parse(const char *s, size_t n)
{
	for (int i = 0; i < SX_NSEATS; i++)
		if (ieq(s, n, seats[i].name) ||
		    (n == 1 && seats[i].letter &&
		     (s[0] == seats[i].letter ||
		      (s[0] | 0x20) == (seats[i].letter | 0x20))))
			return i;
	return -1;
}

const char *sx_seat_name(int seat)
{
	return seat >= 0 && seat < SX_NSEATS ? seats[seat].name : "?";
}

int sx_ship_class_parse(const char *s, size_t n)
{
	for (int i = 0; i < 5; i++)
		if (ieq(s, n, ship_classes[i]) || (n == 1 && s[0] == '0' + i))
			return i;
	return -1;
}

const char *sx_ship_class_name(int k)
{
	return k >= 0 && k < 5 ? ship_classes[k] : "?";
}

int sx_rules_class(const sx_rules *r, int chan, const char *s, size_t n)
{
	for (int i = 0; i < r->nclasses; i++)
		if (r->cls[i].chan == chan && ieq(s, n, r->cls[i].name))
			return i;
	return -1;
}

void sx_rules_classes(const sx_rules *r, int chan, char *buf, size_t cap)
{
	size_t o = 0;
	int n = 0, total = 0;
	for (int i = 0; i < r->nclasses; i++)
		total += r->cls[i].chan == chan;
	buf[0] = 0;
	for (int i = 0; i < r->nclasses && o < cap; i++) {
		if (r->cls[i].chan != chan)
			continue;
		n++;
		o += (size_t)snprintf(buf + o, cap - o, "%s%s",
		                      n == 1 ? "" : n == total ? " or " : ", ",
		                      r->cls[i].name);
	}
}

/* ---- the operator's table ------------------------------------------------ */

/* A class name an operator may add: [a-z0-9_] (any case), 1..21 bytes. */
static int class_name_ok(const char *w, size_t n)
{
	if (n == 0 || n >= SX_CLASS_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)(w[i] | 0x20);
		if (!((c >= 'a' && c <= 'z') || (w[i] >= '0' && w[i] <= '9') ||
		      w[i] == '_'))
			return 0;
	}
	return 1;
}

/* "finance review bank fund": the effect of a joint channel, or of the
 * classes named; save continues the strtok_r of the line. */
static int parse_joint_rule(sx_rules *r, int chan, char **save, int line,
                            char *why, size_t cap)
{
	const char *name = sx_channel_name(chan);
	char *w = strtok_r(NULL, " \t\r", save);
	int eff = w ? sx_effect_parse(w, strlen(w)) : -1;
	if (eff < 0) {
		snprintf(why, cap, "line %d: %s wants an effect: deny, review or "
		         "none%s%.40s%s", line, name, w ? " (not '" : "", w ? w : "",
		         w ? "')" : "");
		return -1;
	}
	if (!sx_chan_classed(chan)) {
		if ((w = strtok_r(NULL, " \t\r", save))) {
			snprintf(why, cap, "line %d: %s takes no class ('%.40s'): "
			         "write `%s %s`", line, name, w, name, sx_effect_name(eff));
			return -1;
		}
		r->effect[chan] = (uint8_t)eff;
		return 0;
	}
	int n = 0;
	for (; (w = strtok_r(NULL, " \t\r", save)); n++) {
		size_t len = strlen(w);
		int i = sx_rules_class(r, chan, w, len);
		if (i < 0) {
			if (!class_name_ok(w, len)) {
				snprintf(why, cap, "line %d: class '%.40s' of %s: a class "
				         "name is 1-%d of a-z, 0-9 and _", line, w, name,
				         SX_CLASS_NAME - 1);
				return -1;
			}
			if (r->nclasses == SX_RULES_MAX_CLASSES) {
				snprintf(why, cap, "line %d: class '%s' of %s: more than "
				         "%d classes in all", line, w, name,
				         SX_RULES_MAX_CLASSES);
				return -1;
			}
			i = r->nclasses++;
			sx_rule_class *c = &r->cls[i];
			memset(c, 0, sizeof(*c));
			for (size_t k = 0; k < len; k++)
				c->name[k] = w[k] >= 'A' && w[k] <= 'Z' ? (char)(w[k] | 0x20) : w[k];
			c->chan = (uint8_t)chan;
		}
		r->cls[i].effect = (uint8_t)eff;
	}
	if (n == 0) {
		char list[400];
		sx_rules_classes(r, chan, list, sizeof list);
		snprintf(why, cap, "line %d: %s has classes: name those the effect is "
		         "for (%s)", line, name, list);
		return -1;
	}
	return 0;
}

int sx_rules_parse(const char *text, size_t len, sx_rules *r, char *why,
                   size_t cap)
{
	static const char *const rail_names[SX_NTRAINS] = {
		"rail.G", "rail.DCS", "rail.other"
	};
	const char *p = text, *end = text + len;
	int line = 0;

	sx_rules_default(r);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		line++;
		char buf[512];
		size_t n = (size_t)(eol - p);
		if (n >= sizeof(buf)) {
			snprintf(why, cap, "line %d: too long", line);
			return -1;
		}
		memcpy(buf, p, n);
		buf[n] = 0;
		p = eol + 1;
		if (memchr(buf, 0, n)) {
			snprintf(why, cap, "line %d: a NUL byte", line);
			return -1;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *save = NULL, *name = strtok_r(buf, " \t\r", &save);
		if (!name)
			continue;
		int rail = -1, ship = !strcasecmp(name, "ship"),
		    hotel = !strcasecmp(name, "hotel");
		for (int i = 0; i < SX_NTRAINS; i++)
			if (!strcasecmp(name, rail_names[i]))
				rail = i;
		if (rail < 0 && !ship && !hotel) {
			int chan = sx_channel_parse(name, strlen(name));
			if (chan >= 0 && !((SX_CODES_CONS >> chan) & 1)) {
				if (parse_joint_rule(r, chan, &save, line, why, cap))
					return -1;
				continue;
			}
			snprintf(why, cap, "line %d: %s '%.40s' (want rail.G, rail.DCS, "
			         "rail.other, ship, hotel or a joint-punishment channel "
			         "such as procurement)", line, chan >= 0 ?
			         "no rule for the consumption channel" : "unknown rule",
			         name);
			return -1;
		}
		uint16_t mask = 0;
		for (char *w; (w = strtok_r(NULL, " \t\r", &save));) {
			size_t wn = strlen(w);
			int k = rail >= 0 ? sx_seat_parse(w, wn) :
			        ship ? sx_ship_class_parse(w, wn) :
			        wn == 1 && w[0] >= '0' && w[0] <= '5' ? w[0] - '0' : -1;
			if (k < 0 && rail >= 0) {
				snprintf(why, cap, "line %d: unknown seat '%.40s'", line, w);
				return -1;
			}
			if (k < 0) {
				snprintf(why, cap, "line %d: bad class '%.40s' for %s: want %s",
				         line, w, ship ? "ship" : "hotel",
				         ship ? "special, first, second, third, fourth or 0-4" :
				         "the star rating 0-5");
				return -1;
			}
			mask |= (uint16_t)(1u << k);
		}
		if (rail >= 0)
			r->rail[rail] = mask;
		else if (ship)
			r->ship = (uint8_t)mask;
		else
			r->hotel = (uint8_t)mask;
	}
	return 0;
}

void sx_rules_write(const sx_rules *r, FILE *f)
{
	static const char *const rail_names[SX_NTRAINS] = {
		"rail.G", "rail.DCS", "rail.other"
	};
	fputs("# sxgate rule table: the restricted classes of each consumption "
	      "channel,\n# then the effect of each joint-punishment channel and "
	      "class\n", f);
	for (int t = 0; t < SX_NTRAINS; t++) {
		fprintf(f, "%s", rail_names[t]);
		for (int i = 0; i < SX_NSEATS; i++)
			if (r->rail[t] >> i & 1)
				fprintf(f, " %s", seats[i].name);
		fputc('\n', f);
	}
	fputs("ship", f);
	for (int i = 0; i < 5; i++)
		if (r->ship >> i & 1)
			fprintf(f, " %s", ship_classes[i]);
	fputs("\nhotel", f);
	for (int i = 0; i < 6; i++)
		if (r->hotel >> i & 1)
			fprintf(f, " %d", i);
	fputc('\n', f);
	for (int c = 0; c < SX_NCODES; c++)
		if (!((SX_CODES_CONS >> c) & 1) && !sx_chan_classed(c))
			fprintf(f, "%s %s\n", sx_channel_name(c),
			        sx_effect_name(r->effect[c]));
	/* classes in table order, runs of one channel and effect a line: read
	 * back, they come out in the same order (added ones appended) */
	for (int i = 0; i < r->nclasses;) {
		const sx_rule_class *c = &r->cls[i];
		fprintf(f, "%s %s", sx_channel_name(c->chan), sx_effect_name(c->effect));
		for (; i < r->nclasses && r->cls[i].chan == c->chan &&
		       r->cls[i].effect == c->effect; i++)
			fprintf(f, " %s", r->cls[i].name);
		fputc('\n', f);
	}
}

int sx_rules_check(const sx_rules *r, char *why, size_t cap)
{
	sx_rules def;
	sx_rules_default(&def);
	for (int t = 0; t < SX_NTRAINS; t++)
		if (r->rail[t] >> SX_NSEATS)
			return sx_fail(why, cap, -1, "rail mask %#x has unknown seats",
			               r->rail[t]);
	if (r->ship >> 5 || r->hotel >> 6)
		return sx_fail(why, cap, -1, "ship or hotel mask has unknown classes");
	for (int c = 0; c < SX_NCODES; c++) {
		int joint = !((SX_CODES_CONS >> c) & 1);
		if (r->effect[c] >= SX_NEFFECTS ||
		    ((!joint || sx_chan_classed(c)) && r->effect[c] != def.effect[c]))
			return sx_fail(why, cap, -1, "effect %u of channel %s is not "
			               "one a rule table can set", r->effect[c],
			               sx_channel_name(c));
	}
	if (r->nclasses < def.nclasses || r->nclasses > SX_RULES_MAX_CLASSES)
		return sx_fail(why, cap, -1, "%u classes (want %u..%d)", r->nclasses,
		               def.nclasses, SX_RULES_MAX_CLASSES);
	for (int i = 0; i < SX_RULES_MAX_CLASSES; i++) {
		const sx_rule_class *c = &r->cls[i];
		size_t n = strnlen(c->name, sizeof(c->name));
		int bad = 0;
		if (i >= r->nclasses) {
			static const sx_rule_class zero;
			bad = memcmp(c, &zero, sizeof(zero)) != 0;
		} else if (i < def.nclasses) {
			bad = strcmp(c->name, def.cls[i].name) || c->chan != def.cls[i].chan;
		} else {
			bad = n == sizeof(c->name) || !class_name_ok(c->name, n) ||
			      c->chan >= SX_NCODES || (SX_CODES_CONS >> c->chan) & 1 ||
			      !sx_chan_classed(c->chan) ||
			      sx_rules_class(r, c->chan, c->name, n) != i;
			for (size_t k = 0; !bad && k < n; k++)
				bad = c->name[k] >= 'A' && c->name[k] <= 'Z';
		}
		for (size_t k = n; !bad && k < sizeof(c->name); k++)
			bad = c->name[k] != 0;
		if (!bad && i < r->nclasses && c->effect >= SX_NEFFECTS)
			bad = 1;
		if (bad)
			return sx_fail(why, cap, -1, "class %d is malformed", i);
	}
	return 0;
}


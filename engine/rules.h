/*
 * rules.h - the rule table (SPEC section 4): which classes of rail, ship
 * and hotel are restricted, and the effect (deny, review, none) of every
 * joint-punishment (channel, class); the classes a query may name.
 *
 * The default table is SPEC's, built by the compiler from the catalogue
 * (sx.h SX_CODES, SX_JCLASSES below).  An operator's table
 * (`sxgate-build --rules`) changes it line by line; the snapshot stores
 * the table it was built with, so a query's class is parsed, and its
 * effect looked up, against the table of the snapshot that decides it.
 * Nothing here knows a snapshot: the reader checks a stored table with
 * sx_rules_check(), the decision asks sx_rules_effect().
 */
#ifndef SX_RULES_H
#define SX_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sx.h"

/* Classes.  rail: train kind (SX_TRAIN_*) << 4 | seat (SX_SEAT_*);
 * ship: 0..4 (special..fourth); hotel: stars 0..5; a joint-punishment
 * channel with classes: the class's index in its rule table (sx_rules.cls);
 * others: SX_CLASS_NONE. */
#define SX_CLASS_NONE 0xffffu

#define SX_SEATS(X)                                        \
	X(SX_SEAT_BUSINESS,       "business",            '9') \
	X(SX_SEAT_PREMIUM,        "premium",             'P') \
	X(SX_SEAT_FIRST,          "first",               'M') \
	X(SX_SEAT_SECOND,         "second",              'O') \
	X(SX_SEAT_DELUXE_SOFT_SL, "deluxe_soft_sleeper", '6') \
	X(SX_SEAT_SOFT_SLEEPER,   "soft_sleeper",        '4') \
	X(SX_SEAT_EMU_SLEEPER,    "emu_sleeper",         'F') \
	X(SX_SEAT_HARD_SLEEPER,   "hard_sleeper",        '3') \
	X(SX_SEAT_SOFT_SEAT,      "soft_seat",           '2') \
	X(SX_SEAT_HARD_SEAT,      "hard_seat",           '1') \
	X(SX_SEAT_STANDING,       "standing",            0)

enum {
#define X(e, name, letter) e,
	SX_SEATS(X)
#undef X
	SX_NSEATS
};
enum { SX_TRAIN_G = 0, SX_TRAIN_DCS = 1, SX_TRAIN_OTHER = 2, SX_NTRAINS };

/* The classes of the joint-punishment channels that have them, with the
 * effect SPEC section 4 gives each (channel, class name, effect).  The
 * operator's rule table may change an effect and add classes. */
#define SX_JCLASSES(X)                                   \
	X(SX_C_FINANCE, "bank",                SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "securities",          SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "fund",                SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "futures",             SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "private_fund",        SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "guarantee",           SX_EFF_DENY)   \
	X(SX_C_FINANCE, "insurer",             SX_EFF_DENY)   \
	X(SX_C_BOND,    "interbank",           SX_EFF_REVIEW) \
	X(SX_C_BOND,    "corporate",           SX_EFF_DENY)   \
	X(SX_C_APPOINT, "soe_executive",       SX_EFF_DENY)   \
	X(SX_C_APPOINT, "institution_rep",     SX_EFF_DENY)   \
	X(SX_C_APPOINT, "financial_executive", SX_EFF_DENY)   \
	X(SX_C_APPOINT, "society_head",        SX_EFF_DENY)   \
	X(SX_C_APPOINT, "civil_servant",       SX_EFF_DENY)   \
	X(SX_C_APPOINT, "deputy",              SX_EFF_DENY)   \
	X(SX_C_APPOINT, "party",               SX_EFF_REVIEW) \
	X(SX_C_APPOINT, "military",            SX_EFF_REVIEW) \
	X(SX_C_LICENSE, "drug",                SX_EFF_REVIEW) \
	X(SX_C_LICENSE, "food",                SX_EFF_REVIEW) \
	X(SX_C_LICENSE, "tobacco",             SX_EFF_DENY)   \
	X(SX_C_LICENSE, "fire",                SX_EFF_DENY)   \
	X(SX_C_LICENSE, "hazchem",             SX_EFF_DENY)   \
	X(SX_C_LICENSE, "fireworks",           SX_EFF_DENY)   \
	X(SX_C_LICENSE, "mining",              SX_EFF_DENY)

#define SX_CLASS_NAME        22    /* bytes of a class name, NUL included */
#define SX_RULES_MAX_CLASSES 128   /* classes of all joint channels */

typedef struct sx_rule_class {
	char name[SX_CLASS_NAME];    /* [a-z0-9_], NUL-padded */
	uint8_t chan;                /* SX_C_* of a joint channel with classes */
	uint8_t effect;              /* SX_EFF_* */
} sx_rule_class;

/* The rule table: which classes of rail, ship and hotel are restricted,
 * and the effect of every joint-punishment (channel, class).  Stored in
 * the snapshot; sx_rules_default() is SPEC section 4's table.  Two tables
 * that mean the same compare equal with memcmp (names are NUL-padded,
 * nothing else is padding). */
typedef struct sx_rules {
	uint16_t rail[SX_NTRAINS];   /* per train kind: mask of restricted seats */
	uint8_t ship;                /* mask over 0..4 */
	uint8_t hotel;               /* mask over 0..5 */
	uint8_t effect[SX_NCODES];   /* class-less channels: SX_EFF_* (always
	                                DENY for the consumption codes) */
	uint16_t nclasses;           /* cls[0..nclasses): the default ones in
	                                SX_JCLASSES order, then the added ones */
	sx_rule_class cls[SX_RULES_MAX_CLASSES];
} sx_rules;

void sx_rules_default(sx_rules *r);
/*
 * Parse an operator's rule table: one rule a line, '#' comments.  Every
 * rule starts from the default table and changes only what it names.
 *
 *   rail.G      business premium first second ...   (G trains)
 *   rail.DCS    business premium first ...           (D, C, S trains)
 *   rail.other  soft_sleeper deluxe_soft_sleeper     (any other train)
 *   ship        special first second                 (or 0 1 2)
 *   hotel       1 2 3 4 5
 * list the restricted classes of a consumption channel (the rule replaces
 * the channel's list), and
 *   procurement deny                   (a joint channel without classes)
 *   finance     review bank fund       (classes of a joint channel)
 *   finance     review trust           (a class not known yet: added)
 * set the effect (deny, review or none) of a joint-punishment channel, or
 * of the classes named of a channel that has classes (a new name adds a
 * class: [a-z0-9_], 1-21 characters, at most SX_RULES_MAX_CLASSES in
 * all).  Returns 0, or -1 with "line N: ..." in why.
 */
int sx_rules_parse(const char *text, size_t len, sx_rules *r, char *why,
                   size_t cap);
/* Write r in the format sx_rules_parse reads (parsing it again gives r). */
void sx_rules_write(const sx_rules *r, FILE *f);
/* Is r a table sx_rules_parse could have made (every mask, effect,
 * channel and name in range, no class twice)?  0, or -1 with what is
 * wrong in why; the snapshot reader's check of its rules section. */
int sx_rules_check(const sx_rules *r, char *why, size_t cap);
/* The effect (SX_EFF_*) of class cls of channel chan under r; cls as
 * parsed against r (a class index from another table is a caller bug:
 * it is bounds-checked, not meaningful). */
int sx_rules_effect(const sx_rules *r, int chan, uint16_t cls);
/* The rule table of a snapshot: sx_snap_rules() (snapshot.h). */
/* The default table, for those that parse a query with no snapshot at
 * hand (valid for the life of the process). */
const sx_rules *sx_rules_default_table(void);

/* Names and parsers of the classes (case-insensitive; -1 when unknown):
 * a seat (its name or 12306 letter), a ship class (its name or 0-4), the
 * class called s of joint channel chan under r (its index in r->cls). */
int sx_seat_parse(const char *s, size_t n);
const char *sx_seat_name(int seat);
int sx_ship_class_parse(const char *s, size_t n);
const char *sx_ship_class_name(int k);
int sx_rules_class(const sx_rules *r, int chan, const char *s, size_t n);
/* "bank, securities, ... or insurer": the classes of joint channel chan
 * under r, for error messages, into buf (always terminated). */
void sx_rules_classes(const sx_rules *r, int chan, char *buf, size_t cap);

/* Does channel chan need a class (rail, ship, hotel, and the joint
 * channels with classes)? */
static inline int sx_chan_classed(int chan)
{
	return (SX_CODES_CLASSED >> chan) & 1;
}

#endif

/*
 * test_id.c - identity rules (SPEC section 3, engine/id.h): normalising,
 * validation per type and side, check characters against independent
 * reference arithmetic written here, key packing, and which keys match.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "id.h"

/* ---- helpers ---------------------------------------------------------- */

static sx_id ok(int type, const char *raw, int side)
{
	sx_id id;
	const char *why = NULL;
	int rc;

	memset(&id, 0xAA, sizeof id);
	rc = sx_id_parse(type, raw, strlen(raw), side, &id, &why);
	cr_assert_eq(rc, 0, "%s '%s' (side %d) refused: %s", sx_idtype_name(type),
	             raw, side, why ? why : "(null)");
	cr_assert_eq(id.type, type);
	cr_assert_eq(id.len, strlen(id.norm));
	return id;
}

static const char *bad(int type, const char *raw, int side)
{
	sx_id id;
	const char *why = NULL;
	int rc = sx_id_parse(type, raw, strlen(raw), side, &id, &why);

	cr_assert_eq(rc, -1, "%s '%s' (side %d) accepted", sx_idtype_name(type),
	             raw, side);
	cr_assert_not_null(why);
	return why;
}

static sx_key pack(int kind, const char *s)
{
	sx_key k;

	cr_assert_eq(sx_key_pack(kind, s, strlen(s), &k), 0, "pack '%s'", s);
	return k;
}

static void assert_key(const sx_key *k, int kind, const char *chars)
{
	char buf[SX_ID_MAX + 1];
	int kk = -1;
	size_t n = sx_key_unpack(k, &kk, buf);

	cr_assert_eq(kk, kind, "key kind %d, want %d", kk, kind);
	cr_assert_eq(n, strlen(chars));
	cr_assert_str_eq(buf, chars);
}

/* Reference check characters, written from the standards' wording rather
 * than from id.c: explicit alphabet searches, no lookup tables. */
static char ref_ric(const char *d)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
	                           8, 4, 2 };
	int sum = 0;

	for (int i = 0; i < 17; i++)
		sum += (d[i] - '0') * w[i];
	return "10X98765432"[sum % 11];
}

static const char USCC_ALPHA[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static char ref_uscc(const char *c)
{
	static const int w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25,
	                           13, 8, 24, 10, 30, 28 };
	int sum = 0, check;

	for (int i = 0; i < 17; i++)
		sum += (int)(strchr(USCC_ALPHA, c[i]) - USCC_ALPHA) * w[i];
	check = 31 - sum % 31;
	return check == 31 ? '0' : USCC_ALPHA[check];
}

static char ref_org(const char *c)
{
	static const int w[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	int sum = 0, check;

	for (int i = 0; i < 8; i++)
		sum += (int)(strchr(alpha, c[i]) - alpha) * w[i];
	check = 11 - sum % 11;
	if (check == 10)
		return 'X';
	if (check == 11)
		return '0';
	return (char)('0' + check);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* ---- RIC ---------------------------------------------------------------- */

Test(ric, known_valid_numbers_parse_on_query_side)
{
	static const char *v[] = { "11010519491231002X", "350304197806263293",
	                           "31010419851004862X", "350203196209155482" };

	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++) {
		sx_id id = ok(SX_IDT_RIC, v[i], SX_SIDE_QUERY);
		cr_assert_str_eq(id.norm, v[i]);
		cr_assert_eq(id.len, 18);
		cr_assert_eq(id.warn, SX_IDW_NONE);
		cr_assert_eq(id.nkeys, 1);
		cr_assert_eq(sx_ric_check(v[i]), v[i][17]);
		char first17[18];
		memcpy(first17, v[i], 17);
		first17[17] = 0;
		assert_key(&id.key[0], SX_KK_RIC, first17);
	}
}

Test(ric, check_character_agrees_with_reference_arithmetic)
{
	char d[18];

	for (int n = 0; n < 20000; n++) {
		for (int i = 0; i < 17; i++)
			d[i] = (char)('0' + rnd(10));
		d[17] = 0;
		cr_assert_eq(sx_ric_check(d), ref_ric(d), "prefix %s", d);
	}
}

Test(ric, check_function_returns_0_for_a_non_digit)
{
	cr_assert_eq(sx_ric_check("1101051949123100A"), 0);
	cr_assert_eq(sx_ric_check("X10105194912310020"), 0);
	cr_assert_eq(sx_ric_check("11010519491231 02"), 0);
}

Test(ric, legacy_15_digits_upgrade_to_the_same_key)
{
	sx_id old = ok(SX_IDT_RIC, "350203620915548", SX_SIDE_QUERY);
	sx_id new = ok(SX_IDT_RIC, "350203196209155482", SX_SIDE_LIST);

	cr_assert_str_eq(old.norm, "350203196209155482");
	cr_assert_eq(old.len, 18);
	cr_assert_eq(old.warn, SX_IDW_NONE);
	cr_assert(sx_key_eq(&old.key[0], &new.key[0]));
	cr_assert(sx_key_match(&old.key[0], &new.key[0]));
}

Test(ric, full_width_digits_and_letter_fold_to_ascii)
{
	sx_id id = ok(SX_IDT_RIC, "１１０１０５１９４９１２３１００２ｘ",
	              SX_SIDE_QUERY);
	sx_id id2 = ok(SX_IDT_RIC, "１１０１０５１９４９１２３１００２Ｘ",
	               SX_SIDE_QUERY);

	cr_assert_str_eq(id.norm, "11010519491231002X");
	cr_assert_str_eq(id2.norm, "11010519491231002X");
}

Test(ric, hyphens_and_spaces_are_removed)
{
	static const char *v[] = {
		"  110105-19491231-002x\t",
		"110105 19491231 002X",
		"\xe3\x80\x80" "110105\xe3\x80\x80" "19491231002X" "\xe3\x80\x80",
		"110105\xef\xbc\x8d" "19491231\xef\xbc\x8d" "002X",  /* U+FF0D */
		"\t \xe3\x80\x80 11010519491231002x \xe3\x80\x80\t",
		"-11010519491231002X-",
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++) {
		sx_id id = ok(SX_IDT_RIC, v[i], SX_SIDE_QUERY);
		cr_assert_str_eq(id.norm, "11010519491231002X", "input %zu", i);
	}
}

Test(ric, only_surrounding_tabs_are_dropped)
{
	cr_assert_str_eq(bad(SX_IDT_RIC, "110105\t19491231002X", SX_SIDE_QUERY),
	                 "RIC contains a character that is not a letter or digit");
}

Test(ric, wrong_check_character_is_invalid_on_query_side)
{
	cr_assert_str_eq(bad(SX_IDT_RIC, "110105194912310021", SX_SIDE_QUERY),
	                 "RIC check character is wrong");
	cr_assert_str_eq(bad(SX_IDT_RIC, "350304197806263290", SX_SIDE_QUERY),
	                 "RIC check character is wrong");
}

Test(ric, wrong_check_character_is_loaded_with_warning_on_list_side)
{
	sx_id typo = ok(SX_IDT_RIC, "110105194912310021", SX_SIDE_LIST);
	sx_id real = ok(SX_IDT_RIC, "11010519491231002X", SX_SIDE_QUERY);

	cr_assert_eq(typo.warn, SX_IDW_CHECK);
	cr_assert_str_eq(typo.norm, "110105194912310021");  /* as listed */
	/* The clerk's typo still catches the debtor's real number. */
	cr_assert(sx_key_eq(&typo.key[0], &real.key[0]));
	cr_assert(sx_key_match(&real.key[0], &typo.key[0]));

	sx_id good = ok(SX_IDT_RIC, "11010519491231002X", SX_SIDE_LIST);
	cr_assert_eq(good.warn, SX_IDW_NONE);
}

Test(ric, list_side_still_refuses_a_malformed_first_17)
{
	cr_assert_str_eq(bad(SX_IDT_RIC, "110105194902310021", SX_SIDE_LIST),
	                 "RIC birth date is not a real date");
	cr_assert_str_eq(bad(SX_IDT_RIC, "11010519491231002A", SX_SIDE_LIST),
	                 "RIC check character must be a digit or X");
}

Test(ric, impossible_birth_date_is_invalid)
{
	char d[19];

	/* Correct check characters, so only the date can be at fault. */
	static const char *p[] = { "11010519490231002", "11010519491301002",
	                           "11010519490100002", "11010519490431002",
	                           "11010519000229002", "11010520230229002" };
	for (size_t i = 0; i < SX_ARRAY_LEN(p); i++) {
		memcpy(d, p[i], 17);
		d[17] = ref_ric(p[i]);
		d[18] = 0;
		cr_assert_str_eq(bad(SX_IDT_RIC, d, SX_SIDE_QUERY),
		                 "RIC birth date is not a real date", "%s", d);
	}
	/* 15 digits: 19-02-29 is 1919, not a leap year. */
	cr_assert_str_eq(bad(SX_IDT_RIC, "110105190229002", SX_SIDE_QUERY),
	                 "RIC birth date is not a real date");
}

Test(ric, leap_day_is_valid_only_in_leap_years)
{
	char d[19];

	memcpy(d, "11010520000229002", 17);
	d[17] = ref_ric(d);
	d[18] = 0;
	cr_assert_str_eq(ok(SX_IDT_RIC, d, SX_SIDE_QUERY).norm, d);
	sx_id old = ok(SX_IDT_RIC, "110105960229002", SX_SIDE_QUERY);
	cr_assert_eq(strncmp(old.norm, "11010519960229002", 17), 0);
}

Test(ric, birth_year_outside_1800_to_2100_is_invalid)
{
	char d[19];
	static const char *p[] = { "11010517991231002", "11010521010101002" };

	for (size_t i = 0; i < SX_ARRAY_LEN(p); i++) {
		memcpy(d, p[i], 17);
		d[17] = ref_ric(p[i]);
		d[18] = 0;
		cr_assert_str_eq(bad(SX_IDT_RIC, d, SX_SIDE_QUERY),
		                 "RIC birth year is not between 1800 and 2100");
	}
	memcpy(d, "11010518000101002", 17);
	d[17] = ref_ric(d);
	d[18] = 0;
	ok(SX_IDT_RIC, d, SX_SIDE_QUERY);
	memcpy(d, "11010521001231002", 17);
	d[17] = ref_ric(d);
	ok(SX_IDT_RIC, d, SX_SIDE_QUERY);
}

Test(ric, area_code_starting_with_zero_is_invalid)
{
	char d[19];

	memcpy(d, "01010519491231002", 17);
	d[17] = ref_ric(d);
	d[18] = 0;
	cr_assert_str_eq(bad(SX_IDT_RIC, d, SX_SIDE_QUERY),
	                 "RIC area code cannot start with 0");
	cr_assert_str_eq(bad(SX_IDT_RIC, "010203620915548", SX_SIDE_QUERY),
	                 "RIC area code cannot start with 0");
}

Test(ric, wrong_length_is_invalid)
{
	static const char *v[] = { "1101051949123100", "11010519491231002",
	                           "11010519491231002X1", "1101051949123",
	                           "110105194912310021234567890" };
	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++)
		cr_assert_str_eq(bad(SX_IDT_RIC, v[i], SX_SIDE_LIST),
		                 "RIC must have 18 or 15 digits", "%s", v[i]);
}

Test(ric, letters_outside_the_check_position_are_invalid)
{
	const char *m = "RIC must be all digits, except an X as the 18th character";

	cr_assert_str_eq(bad(SX_IDT_RIC, "1101051949123100XX", SX_SIDE_LIST), m);
	cr_assert_str_eq(bad(SX_IDT_RIC, "A1010519491231002X", SX_SIDE_QUERY), m);
	cr_assert_str_eq(bad(SX_IDT_RIC, "35020362091554X", SX_SIDE_QUERY), m);
}

Test(ric, check_character_must_be_digit_or_x)
{
	cr_assert_str_eq(bad(SX_IDT_RIC, "11010519491231002Y", SX_SIDE_QUERY),
	                 "RIC check character must be a digit or X");
}

/* ---- characters and emptiness (all types) ------------------------------ */

Test(normalise, non_alphanumeric_bytes_make_the_id_invalid)
{
	cr_assert_str_eq(bad(SX_IDT_RIC, "1101051949!231002X", SX_SIDE_QUERY),
	                 "RIC contains a character that is not a letter or digit");
	/* U+2010 HYPHEN is not folded. */
	cr_assert_str_eq(bad(SX_IDT_USCC, "91350100\xe2\x80\x90" "658106848R",
	                     SX_SIDE_QUERY),
	                 "USCC contains a character that is not a letter or digit");
	/* U+FF01 FULLWIDTH EXCLAMATION MARK: full-width, but not a letter. */
	cr_assert_str_eq(bad(SX_IDT_ORG, "D2143569\xef\xbc\x81", SX_SIDE_QUERY),
	                 "ORG contains a character that is not a letter or digit");
	/* A truncated UTF-8 sequence. */
	cr_assert_str_eq(bad(SX_IDT_PASSPORT, "E1234567\xef\xbc", SX_SIDE_QUERY),
	                 "PASSPORT contains a character that is not a letter or digit");
	cr_assert_str_eq(bad(SX_IDT_HKMO, "C1234567.", SX_SIDE_QUERY),
	                 "HKMO contains a character that is not a letter or digit");
	cr_assert_str_eq(bad(SX_IDT_TW, "1234_5678", SX_SIDE_QUERY),
	                 "TW contains a character that is not a letter or digit");
	cr_assert_str_eq(bad(SX_IDT_FRP, "\xc3\xa9" "12345", SX_SIDE_QUERY),
	                 "FRP contains a character that is not a letter or digit");
}

Test(normalise, embedded_nul_is_invalid)
{
	sx_id id;
	const char *why = NULL;

	cr_assert_eq(sx_id_parse(SX_IDT_PASSPORT, "E123\0" "4567", 9,
	                         SX_SIDE_QUERY, &id, &why), -1);
	cr_assert_str_eq(why,
	                 "PASSPORT contains a character that is not a letter or digit");
}

Test(normalise, empty_or_blank_id_is_invalid)
{
	static const char *v[] = { "", "   ", "\t", "\xe3\x80\x80", "--",
	                           " - \xef\xbc\x8d " };
	for (int t = 0; t < SX_NIDTYPES; t++)
		for (size_t i = 0; i < SX_ARRAY_LEN(v); i++)
			cr_assert_str_eq(bad(t, v[i], SX_SIDE_QUERY), "empty id");
}

Test(normalise, unknown_type_is_refused)
{
	sx_id id;
	const char *why = NULL;

	cr_assert_eq(sx_id_parse(SX_NIDTYPES, "E12345678", 9, SX_SIDE_QUERY,
	                         &id, &why), -1);
	cr_assert_str_eq(why, "unknown id type");
	cr_assert_eq(sx_id_parse(-1, "E12345678", 9, SX_SIDE_QUERY, &id, &why),
	             -1);
}

Test(normalise, full_width_letters_of_both_cases_fold)
{
	/* U+FF21 'Ａ' .. U+FF3A 'Ｚ', U+FF41 'ａ' .. U+FF5A 'ｚ' */
	sx_id id = ok(SX_IDT_PASSPORT, "Ａａ Ｚｚ－１２", SX_SIDE_QUERY);

	cr_assert_str_eq(id.norm, "AAZZ12");
	id = ok(SX_IDT_PASSPORT, "０１２３４５６７８９", SX_SIDE_QUERY);
	cr_assert_str_eq(id.norm, "0123456789");
}

Test(normalise, longer_than_20_characters_is_invalid)
{
	cr_assert_str_eq(bad(SX_IDT_PASSPORT, "ABCDEFGHIJ0123456789K",
	                     SX_SIDE_QUERY),
	                 "PASSPORT must have 5 to 20 letters or digits");
	cr_assert_str_eq(bad(SX_IDT_USCC, "91350100658106848R123", SX_SIDE_QUERY),
	                 "USCC must have 18 characters");
	cr_assert_str_eq(bad(SX_IDT_ORG, "D2143569XD2143569XD2143569X",
	                     SX_SIDE_QUERY),
	                 "ORG must have 9 characters");
	/* Hyphens do not count towards the length. */
	sx_id id = ok(SX_IDT_PASSPORT, "ABCDE-FGHIJ-01234-56789", SX_SIDE_QUERY);
	cr_assert_eq(id.len, 20);
}

/* ---- USCC ----------------------------------------------------------------- */

Test(uscc, known_valid_code_parses_with_both_keys)
{
	sx_id q = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_QUERY);
	sx_id l = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_LIST);

	cr_assert_eq(sx_uscc_check("91350100658106848"), 'R');
	cr_assert_eq(q.warn, SX_IDW_NONE);
	cr_assert_eq(q.nkeys, 2);
	cr_assert_eq(l.nkeys, 2);
	assert_key(&q.key[0], SX_KK_USCC, "91350100658106848R");
	assert_key(&l.key[0], SX_KK_USCC, "91350100658106848R");
	assert_key(&q.key[1], SX_KK_ORG, "658106848");
	assert_key(&l.key[1], SX_KK_EMB, "658106848");
}

Test(uscc, check_character_agrees_with_reference_arithmetic)
{
	char c[18];
	int zero = 0;

	for (int n = 0; n < 20000; n++) {
		for (int i = 0; i < 17; i++)
			c[i] = USCC_ALPHA[rnd(31)];
		c[17] = 0;
		char want = ref_uscc(c);
		zero += want == '0';
		cr_assert_eq(sx_uscc_check(c), want, "prefix %s", c);
	}
	cr_assert_gt(zero, 0, "the 31 -> '0' case was never exercised");
}

Test(uscc, check_function_returns_0_outside_the_alphabet)
{
	static const char bad_chars[] = "IOSVZa-";

	for (size_t i = 0; i < sizeof bad_chars - 1; i++) {
		char c[18] = "91350100658106848";
		c[5] = bad_chars[i];
		cr_assert_eq(sx_uscc_check(c), 0, "char %c", bad_chars[i]);
	}
}

Test(uscc, lower_case_full_width_and_hyphens_normalise)
{
	sx_id id = ok(SX_IDT_USCC, " 91350100-65810684-8r ", SX_SIDE_QUERY);
	cr_assert_str_eq(id.norm, "91350100658106848R");
	id = ok(SX_IDT_USCC, "９１３５０１００６５８１０６８４８ｒ", SX_SIDE_QUERY);
	cr_assert_str_eq(id.norm, "91350100658106848R");
	cr_assert_eq(id.warn, SX_IDW_NONE);
}

Test(uscc, failing_check_is_accepted_with_warning_on_both_sides)
{
	for (int side = SX_SIDE_QUERY; side <= SX_SIDE_LIST; side++) {
		sx_id id = ok(SX_IDT_USCC, "91350100658106848A", side);
		cr_assert_eq(id.warn, SX_IDW_CHECK);
		cr_assert_str_eq(id.norm, "91350100658106848A");
		assert_key(&id.key[0], SX_KK_USCC, "91350100658106848A");
	}
	/* Matched exactly: the pilot code is not the valid one. */
	sx_id a = ok(SX_IDT_USCC, "91350100658106848A", SX_SIDE_LIST);
	sx_id b = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_QUERY);
	cr_assert_not(sx_key_eq(&a.key[0], &b.key[0]));
	cr_assert_not(sx_key_match(&a.key[0], &b.key[0]));
}

Test(uscc, characters_outside_the_alphabet_are_invalid)
{
	static const char *v[] = { "91350100658106848I", "91350100658106848O",
	                           "9135010065810684SR", "V1350100658106848R",
	                           "913501006581068Z8R" };
	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++)
		cr_assert_str_eq(bad(SX_IDT_USCC, v[i], SX_SIDE_LIST),
		                 "USCC contains a character outside its alphabet");
}

Test(uscc, wrong_length_is_invalid)
{
	cr_assert_str_eq(bad(SX_IDT_USCC, "9135010065810684R", SX_SIDE_QUERY),
	                 "USCC must have 18 characters");
	cr_assert_str_eq(bad(SX_IDT_USCC, "658106848", SX_SIDE_QUERY),
	                 "USCC must have 18 characters");
}

/* ---- ORG ------------------------------------------------------------------ */

Test(org, known_valid_codes_parse)
{
	/* D2143569-X is GB 11714's own example; 65810684-8 is embedded in
	 * 91350100658106848R. */
	sx_id a = ok(SX_IDT_ORG, "D2143569-X", SX_SIDE_QUERY);
	sx_id b = ok(SX_IDT_ORG, "65810684-8", SX_SIDE_LIST);
	sx_id c = ok(SX_IDT_ORG, "d2143569x", SX_SIDE_QUERY);

	cr_assert_str_eq(a.norm, "D2143569X");
	cr_assert_str_eq(b.norm, "658106848");
	cr_assert_str_eq(c.norm, "D2143569X");
	cr_assert_eq(a.warn, SX_IDW_NONE);
	cr_assert_eq(b.warn, SX_IDW_NONE);
	cr_assert_eq(sx_org_check("D2143569"), 'X');
	cr_assert_eq(sx_org_check("65810684"), '8');
}

Test(org, query_side_has_org_and_emb_keys_list_side_only_org)
{
	sx_id q = ok(SX_IDT_ORG, "D2143569X", SX_SIDE_QUERY);
	sx_id l = ok(SX_IDT_ORG, "D2143569X", SX_SIDE_LIST);

	cr_assert_eq(q.nkeys, 2);
	assert_key(&q.key[0], SX_KK_ORG, "D2143569X");
	assert_key(&q.key[1], SX_KK_EMB, "D2143569X");
	cr_assert_eq(l.nkeys, 1);
	assert_key(&l.key[0], SX_KK_ORG, "D2143569X");
}

Test(org, check_character_agrees_with_reference_arithmetic)
{
	static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char c[9];
	int x = 0, zero = 0;

	for (int n = 0; n < 20000; n++) {
		for (int i = 0; i < 8; i++)
			c[i] = alpha[rnd(36)];
		c[8] = 0;
		char want = ref_org(c);
		x += want == 'X';
		zero += want == '0';
		cr_assert_eq(sx_org_check(c), want, "prefix %s", c);
	}
	cr_assert_gt(x, 0);
	cr_assert_gt(zero, 0);
}

Test(org, check_function_returns_0_outside_the_alphabet)
{
	cr_assert_eq(sx_org_check("d2143569"), 0);
	cr_assert_eq(sx_org_check("D214-569"), 0);
	cr_assert_eq(sx_org_check("D214356 "), 0);
}

Test(org, failing_check_is_accepted_with_warning_on_both_sides)
{
	for (int side = SX_SIDE_QUERY; side <= SX_SIDE_LIST; side++) {
		sx_id id = ok(SX_IDT_ORG, "D21435691", side);
		cr_assert_eq(id.warn, SX_IDW_CHECK);
		assert_key(&id.key[0], SX_KK_ORG, "D21435691");
	}
}

Test(org, check_character_outside_digits_and_x_is_malformed)
{
	cr_assert_str_eq(bad(SX_IDT_ORG, "D2143569A", SX_SIDE_LIST),
	                 "ORG check character must be a digit or X");
	cr_assert_str_eq(bad(SX_IDT_ORG, "D2143569Y", SX_SIDE_QUERY),
	                 "ORG check character must be a digit or X");
}

Test(org, wrong_length_is_invalid)
{
	cr_assert_str_eq(bad(SX_IDT_ORG, "D2143569", SX_SIDE_QUERY),
	                 "ORG must have 9 characters");
	cr_assert_str_eq(bad(SX_IDT_ORG, "D2143569X0", SX_SIDE_QUERY),
	                 "ORG must have 9 characters");
}

/* ---- travel documents ------------------------------------------------------ */

Test(docs, letters_and_digits_of_5_to_20)
{
	static const struct { int type, kind; const char *name; } t[] = {
		{ SX_IDT_PASSPORT, SX_KK_PASSPORT, "PASSPORT" },
		{ SX_IDT_HKMO,     SX_KK_HKMO,     "HKMO" },
		{ SX_IDT_TW,       SX_KK_TW,       "TW" },
		{ SX_IDT_FRP,      SX_KK_FRP,      "FRP" },
	};
	char why[64];

	for (size_t i = 0; i < SX_ARRAY_LEN(t); i++) {
		sx_id id = ok(t[i].type, " e1234 5678 ", SX_SIDE_QUERY);
		cr_assert_str_eq(id.norm, "E12345678");
		cr_assert_eq(id.nkeys, 1);
		cr_assert_eq(id.warn, SX_IDW_NONE);
		assert_key(&id.key[0], t[i].kind, "E12345678");
		ok(t[i].type, "A1234", SX_SIDE_LIST);
		ok(t[i].type, "ABCDEFGHIJ0123456789", SX_SIDE_LIST);

		snprintf(why, sizeof why, "%s must have 5 to 20 letters or digits",
		         t[i].name);
		cr_assert_str_eq(bad(t[i].type, "A123", SX_SIDE_QUERY), why);
		cr_assert_str_eq(bad(t[i].type, "ABCDEFGHIJ0123456789X",
		                     SX_SIDE_QUERY), why);
	}
}

Test(docs, same_number_under_different_types_does_not_match)
{
	sx_id p = ok(SX_IDT_PASSPORT, "E12345678", SX_SIDE_QUERY);
	sx_id h = ok(SX_IDT_HKMO, "E12345678", SX_SIDE_LIST);

	cr_assert_not(sx_key_eq(&p.key[0], &h.key[0]));
	cr_assert_not(sx_key_match(&p.key[0], &h.key[0]));
}

/* ---- USCC <-> ORG matching --------------------------------------------- */

Test(match, uscc_query_finds_org_listing)
{
	sx_id q = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_QUERY);
	sx_id l = ok(SX_IDT_ORG, "65810684-8", SX_SIDE_LIST);

	cr_assert(sx_key_eq(&q.key[1], &l.key[0]));
	cr_assert(sx_key_match(&q.key[0], &l.key[0]));
	cr_assert(sx_key_match(&l.key[0], &q.key[0]));
}

Test(match, org_query_finds_uscc_listing)
{
	sx_id q = ok(SX_IDT_ORG, "658106848", SX_SIDE_QUERY);
	sx_id l = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_LIST);

	cr_assert(sx_key_eq(&q.key[1], &l.key[1]));
	cr_assert(sx_key_match(&q.key[0], &l.key[0]));
	cr_assert(sx_key_match(&l.key[0], &q.key[0]));
}

Test(match, two_usccs_with_the_same_org_do_not_share_their_own_key)
{
	char other[19] = "92350100658106848";
	other[17] = ref_uscc(other);
	other[18] = 0;
	sx_id a = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_LIST);
	sx_id b = ok(SX_IDT_USCC, other, SX_SIDE_LIST);
	sx_id qa = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_QUERY);
	sx_id qb = ok(SX_IDT_USCC, other, SX_SIDE_QUERY);

	cr_assert_eq(b.warn, SX_IDW_NONE);
	cr_assert_not(sx_key_eq(&a.key[0], &b.key[0]));
	cr_assert_not(sx_key_match(&a.key[0], &b.key[0]));
	/* Neither query key of one finds a listing key of the other ... */
	for (int i = 0; i < qa.nkeys; i++)
		for (int j = 0; j < b.nkeys; j++)
			cr_assert_not(sx_key_eq(&qa.key[i], &b.key[j]), "%d %d", i, j);
	for (int i = 0; i < qb.nkeys; i++)
		for (int j = 0; j < a.nkeys; j++)
			cr_assert_not(sx_key_eq(&qb.key[i], &a.key[j]), "%d %d", i, j);
	/* ... while both embed the same organisation code. */
	cr_assert(sx_key_eq(&a.key[1], &b.key[1]));
}

Test(match, org_of_another_unit_does_not_match)
{
	sx_id u = ok(SX_IDT_USCC, "91350100658106848R", SX_SIDE_LIST);
	sx_id o = ok(SX_IDT_ORG, "D2143569X", SX_SIDE_QUERY);

	cr_assert_not(sx_key_match(&u.key[0], &o.key[0]));
	cr_assert_not(sx_key_match(&o.key[0], &u.key[0]));
	for (int i = 0; i < o.nkeys; i++)
		for (int j = 0; j < u.nkeys; j++)
			cr_assert_not(sx_key_eq(&o.key[i], &u.key[j]));
}

Test(match, only_uscc_and_org_kinds_match_across)
{
	/* Same nine characters under other kinds never match a USCC. */
	sx_key u = pack(SX_KK_USCC, "91350100658106848R");
	sx_key emb = pack(SX_KK_EMB, "658106848");
	sx_key pp = pack(SX_KK_PASSPORT, "658106848");
	sx_key org = pack(SX_KK_ORG, "658106848");
	sx_key org8 = pack(SX_KK_ORG, "65810684");

	cr_assert(sx_key_match(&u, &org));
	cr_assert_not(sx_key_match(&u, &emb));
	cr_assert_not(sx_key_match(&u, &pp));
	cr_assert_not(sx_key_match(&org, &emb));
	cr_assert_not(sx_key_match(&u, &org8));
	/* Only a whole 18-character USCC embeds an organisation code. */
	sx_key u17 = pack(SX_KK_USCC, "91350100658106848");
	cr_assert_not(sx_key_match(&u17, &org));
	cr_assert_not(sx_key_match(&org, &u17));
	cr_assert(sx_key_match(&pp, &pp));
}

Test(match, ric_keys_match_only_when_equal)
{
	sx_id a = ok(SX_IDT_RIC, "11010519491231002X", SX_SIDE_QUERY);
	sx_id b = ok(SX_IDT_RIC, "350304197806263293", SX_SIDE_QUERY);

	cr_assert(sx_key_match(&a.key[0], &a.key[0]));
	cr_assert_not(sx_key_match(&a.key[0], &b.key[0]));
}

/* ---- key packing ------------------------------------------------------------ */

Test(key, bit_layout_is_as_documented)
{
	/* kind ORG (2), length 1 at bits 3..7, 'A' = 11 at bits 8..13 */
	sx_key k = pack(SX_KK_ORG, "A");
	cr_assert_eq(k.lo, 2u | 1u << 3 | 11u << 8);
	cr_assert_eq(k.hi, 0);

	/* '0' is code 1, not 0. */
	k = pack(SX_KK_RIC, "0");
	cr_assert_eq(k.lo, 0u | 1u << 3 | 1u << 8);

	/* Twenty 'Z' (36) fill all 128 bits: character 19 ends at bit 127. */
	k = pack(SX_KK_FRP, "ZZZZZZZZZZZZZZZZZZZZ");
	cr_assert_eq(k.lo & 0xff, (uint64_t)(SX_KK_FRP | 20 << 3));
	cr_assert_eq(k.hi >> 58, 36u);
	/* Character 9 straddles the two words: bits 62..67. */
	cr_assert_eq((k.lo >> 62) | ((k.hi & 0xf) << 2), 36u);
	cr_assert_eq(sx_key_kind(&k), SX_KK_FRP);
}

Test(key, pack_unpack_round_trip)
{
	static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char s[SX_ID_MAX + 1], out[SX_ID_MAX + 1];

	for (int n = 0; n < 5000; n++) {
		size_t len = 1 + rnd(SX_ID_MAX);
		int kind = (int)rnd(8), kk = -1;
		sx_key k;

		for (size_t i = 0; i < len; i++)
			s[i] = alpha[rnd(36)];
		s[len] = 0;
		cr_assert_eq(sx_key_pack(kind, s, len, &k), 0);
		cr_assert_eq(sx_key_kind(&k), kind);
		cr_assert_eq(sx_key_unpack(&k, &kk, out), len);
		cr_assert_eq(kk, kind);
		cr_assert_str_eq(out, s);
	}
}

Test(key, length_is_part_of_the_key)
{
	sx_key a = pack(SX_KK_PASSPORT, "12345");
	sx_key b = pack(SX_KK_PASSPORT, "123450");

	cr_assert_not(sx_key_eq(&a, &b));
	cr_assert_neq(sx_key_cmp(&a, &b), 0);
	cr_assert_eq(sx_key_cmp(&a, &b), -sx_key_cmp(&b, &a));
	cr_assert_eq(sx_key_cmp(&a, &a), 0);
}

Test(key, pack_refuses_bad_characters_lengths_and_kinds)
{
	sx_key k;

	cr_assert_eq(sx_key_pack(SX_KK_RIC, "abc12", 5, &k), -1);
	cr_assert_eq(sx_key_pack(SX_KK_RIC, "12-45", 5, &k), -1);
	cr_assert_eq(sx_key_pack(SX_KK_RIC, "", 0, &k), -1);
	cr_assert_eq(sx_key_pack(SX_KK_RIC, "ABCDEFGHIJ0123456789K", 21, &k), -1);
	cr_assert_eq(sx_key_pack(8, "12345", 5, &k), -1);
	cr_assert_eq(sx_key_pack(-1, "12345", 5, &k), -1);
}

Test(key, unpack_of_a_damaged_key_stays_in_bounds)
{
	sx_key k = { ~0ull, ~0ull };   /* length 31, every code 63 */
	char buf[SX_ID_MAX + 1 + 8];
	int kind;

	memset(buf, '#', sizeof buf);
	cr_assert_eq(sx_key_unpack(&k, &kind, buf), SX_ID_MAX);
	cr_assert_eq(buf[SX_ID_MAX], 0);
	cr_assert_eq(buf[SX_ID_MAX + 1], '#');
	cr_assert_eq(kind, 7);
}

Test(key, parsed_key_equals_packed_normalised_form)
{
	sx_id id = ok(SX_IDT_PASSPORT, "ｅ１２３４５６７８", SX_SIDE_QUERY);
	sx_key k = pack(SX_KK_PASSPORT, "E12345678");

	cr_assert(sx_key_eq(&id.key[0], &k));
}

/* ---- the fast paths agree with the general one ------------------------------ */

/* sx_id_parse takes a fast path for an 18-byte RIC and for a document
 * number of bare ASCII letters and digits.  A leading space sends the
 * same ID the general way (normalising drops it): both must give the same
 * answer, the same reason, and the same ID byte for byte. */
static void same_both_ways(int type, const char *raw, int side)
{
	char spaced[64];
	sx_id a, b;
	const char *wa = NULL, *wb = NULL;
	size_t n = strlen(raw);
	snprintf(spaced, sizeof spaced, " %s", raw);
	memset(&a, 0x5A, sizeof a);
	memset(&b, 0x5A, sizeof b);
	int ra = sx_id_parse(type, raw, n, side, &a, &wa);
	int rb = sx_id_parse(type, spaced, n + 1, side, &b, &wb);
	cr_assert_eq(ra, rb, "%s '%s' side %d: %d directly, %d the general way (%s / %s)",
	             sx_idtype_name(type), raw, side, ra, rb, wa ? wa : "-", wb ? wb : "-");
	if (ra) {
		cr_assert_str_eq(wa, wb, "%s '%s': reasons differ", sx_idtype_name(type), raw);
		return;
	}
	cr_assert_str_eq(a.norm, b.norm, "%s '%s'", sx_idtype_name(type), raw);
	cr_assert(a.type == b.type && a.warn == b.warn && a.len == b.len &&
	          a.nkeys == b.nkeys, "%s '%s': header differs", sx_idtype_name(type), raw);
	for (int k = 0; k < 2; k++)
		cr_assert(sx_key_eq(&a.key[k], &b.key[k]), "%s '%s': key %d differs",
		          sx_idtype_name(type), raw, k);
}

Test(fast, ric_and_documents_agree_with_the_general_path)
{
	static const char digitsx[] = "0123456789X";
	static const char any[] = "0123456789xXaZ- \x01\xef";
	uint64_t r = 88172645463325252ull;
	char id[32];
	for (int i = 0; i < 400000; i++) {
		r ^= r << 13; r ^= r >> 7; r ^= r << 17;
		uint64_t v = r;
		int mode = (int)(v % 8);
		if (mode < 5) {
			/* mostly well-formed: a real date, a valid check
			 * character, then one byte perhaps spoiled */
			snprintf(id, sizeof id, "%c%05u%04u%02u%02u%03u", (char)('0' + (v >> 3) % 10),
			         (unsigned)(v >> 7) % 100000, 1790 + (unsigned)(v >> 24) % 330,
			         (unsigned)(v >> 33) % 14, (unsigned)(v >> 37) % 33,
			         (unsigned)(v >> 43) % 1000);
			char c = sx_ric_check(id);
			id[17] = mode == 4 ? digitsx[(v >> 53) % 11] : c;
			if (c == 'X' && (v >> 57) % 2)
				id[17] = 'x';
			id[18] = 0;
			if (mode == 3)
				id[(v >> 58) % 18] = any[(v >> 40) % (sizeof any - 1)];
			same_both_ways(SX_IDT_RIC, id, (int)(v >> 61) % 2);
		} else {
			size_t n = 1 + (size_t)(v >> 3) % 23;
			for (size_t j = 0; j < n; j++)
				id[j] = mode == 5 ? any[(v >> (j % 50)) % (sizeof any - 1)]
				                  : "0123456789ABCDEFabcdefXYZxyz"[(v >> (j % 55)) % 28];
			id[n] = 0;
			if (strlen(id) != n)
				continue;
			same_both_ways(SX_IDT_PASSPORT + (int)(v >> 59) % 4, id, 0);
			same_both_ways(SX_IDT_RIC, id, 0);
		}
	}
}

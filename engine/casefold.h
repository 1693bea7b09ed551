/*
 * casefold.h - one case, however its number is spelled.
 *
 * A court's case number may be typed with half-width brackets,
 * "(2021)京01执123号", or full-width ones, "（2021）京01执123号": the same
 * case.  Every part that numbers or compares cases (the snapshot writer,
 * decisions, live updates, the loader) folds the spelling first, so they
 * all agree on which spellings are one case.  Folding maps '(' and ')' to
 * U+FF08 and U+FF09 and leaves every other byte alone; it is idempotent,
 * so a folded spelling folds to itself.
 */
#ifndef SX_CASEFOLD_H
#define SX_CASEFOLD_H

#include <stddef.h>
#include <stdint.h>

/* The longest folded spelling of a case number the engine stores: 1024
 * bytes, every one a bracket (3 bytes folded). */
#define SX_CASE_FOLD_MAX 3072

/* Fold half-width brackets of a case number to full-width ones, so that
 * "(2021)..." and "（2021）..." are one case.  Writes at most cap bytes,
 * returns the folded length (which may exceed cap: the caller compares). */
size_t sx_case_fold(const char *s, size_t len, char *out, size_t cap);

/* The hash the snapshot writer numbers cases by: XXH3-64 of the folded
 * spelling fold[0..fold_len). */
uint64_t sx_case_hash(const char *fold, size_t fold_len);

#endif

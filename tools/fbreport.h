/*
 * fbreport.h - the `sxgate feedback` and `sxgate journal` subcommands:
 * read the server's feedback log and live-update journal offline.
 *
 *   sxgate feedback summarize FILE [--since YYYY-MM-DD] [--to YYYY-MM-DD]
 *                             [--court NAME] [--tenant T] [--json]
 *       refusals per court and case: DENY / REVIEW / SUSPENDED / EXEMPT
 *       counts,
 *       counts by channel, the distinct IDs, the last attempt (+08:00)
 *   sxgate feedback report FILE --html OUT ...
 *       the courts' report (tools/fbreportcmd.h; dispatched by cli.c)
 *   sxgate feedback dump FILE
 *       every record as CSV: time,tenant,channel,class,id_type,id,
 *       decision,reason,cases  (RFC 4180 quoting; cases "case|court"
 *       joined with ';')
 *   sxgate journal dump FILE
 *       every entry (and compaction checkpoint), one per line: seq, time
 *       (+08:00), source tag, who, where, the command, tab-separated; `-`
 *       for a source tag, who or where the entry does not have (who and
 *       where: entries written before sxgate recorded them)
 *
 * Both only read (no lock, no cut), so they are safe on the files of a
 * running server; a torn tail is reported on stderr and skipped.
 *
 * Exit codes: 0 done, 1 usage error, 3 the file is missing, unreadable or
 * damaged (the reason, naming the file, on stderr).
 */
#ifndef SX_TOOLS_FBREPORT_H
#define SX_TOOLS_FBREPORT_H

/* argv[0] is the subcommand name ("feedback", "journal").  Output goes to
 * stdout, messages to stderr.  Returns the process exit code. */
int sx_cli_feedback_main(int argc, char **argv);
int sx_cli_journal_main(int argc, char **argv);

/* "--name VALUE" or "--name=VALUE" at argv[*i] (moving *i past VALUE):
 * the value, or NULL when argv[*i] is another option; *bad set when
 * --name is last and has no value.  The feedback subcommands' parser. */
const char *sx_cli_opt_value(int argc, char **argv, int *i, const char *name, int *bad);

#endif

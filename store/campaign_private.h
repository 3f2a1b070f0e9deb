/*
 * store/campaign_private.h: what store/campaign.c and store/approval.c share.
 */
#ifndef HATO_STORE_CAMPAIGN_PRIVATE_H
#define HATO_STORE_CAMPAIGN_PRIVATE_H

#include "store/private.h"

#define BIT(s) (1u << (s))
/* The states a campaign ends in. */
#define TERMINAL                                                                                   \
	(BIT(STORE_CAMPAIGN_SENT) | BIT(STORE_CAMPAIGN_CANCELLED) | BIT(STORE_CAMPAIGN_FAILED))

extern const char *const campaign_state_names[STORE_CAMPAIGN_NSTATES];

/* The setting approvals.required, in SQL: a whole number from 1 to 16, 1 when unset. */
#define CAMPAIGN_REQUIRED_SQL                                                                      \
	"coalesce((SELECT min(max(CAST(value AS INTEGER), 1), 16) FROM config"                     \
	" WHERE key = 'approvals.required'), 1)"
/*
 * The approvals a campaign c needs: the number fixed when it was created,
 * submitted or last approved, and until it is approved, at least the
 * current setting (a raised requirement applies to campaigns in review).
 */
#define CAMPAIGN_NEEDED_SQL                                                                        \
	"max(c.approvals_needed, CASE WHEN c.state IN ('draft', 'in_review', 'rejected')"          \
	" THEN " CAMPAIGN_REQUIRED_SQL " ELSE 0 END)"

/* A move between states: who may make it and from where. */
struct campaign_move {
	const char *action; /* for the audit trail */
	enum store_perm perm, perm2;
	bool four_eyes;	  /* the author may not do it */
	unsigned from;	  /* the states it starts from */
	const char *hint; /* what to do when the state is wrong */
};

/* Ends a transaction: commits on success, and after a refusal (to keep its audit record). */
enum store_status campaign_finish(struct store *st, enum store_status s, char **errstr);
/* Loads the campaign by name (or, name NULL, by id) without a permission check. */
enum store_status campaign_load(struct store *st, const char *name, int64_t id,
				struct store_campaign **out, char **errstr);
enum store_status campaign_drop_approvals(struct store *st, int64_t id, char **errstr);
/* True when name is one of the space-separated names. */
bool campaign_named(const char *names, const char *name);
/* In a transaction: checks permissions, four-eyes and state; loads the campaign. */
enum store_status campaign_begin_move(struct store *st, const char *name,
				      const struct campaign_move *m, struct store_campaign **c,
				      char **errstr);
/* Sets the state; `also` is extra SQL for the SET clause, with ?3 bound to text,
 * ?4 to the time now (epoch seconds) and ?5, when it uses it, to the user. */
enum store_status campaign_set_state(struct store *st, int64_t id, enum store_campaign_state to,
				     const char *also, const char *text, char **errstr);
/* Runs SQL whose only parameter, ?1, is the campaign's id; ?2 gets v. */
enum store_status campaign_exec_id(struct store *st, const char *sql, int64_t id, int64_t v,
				   char **errstr);
/* Checks a free-text field: no control characters, a sane length. */
enum store_status campaign_check_text(const char *what, const char *v, bool required,
				      char **errstr);

#endif

/*
 * send/compose.c: one subscriber's complete, signed message.
 *
 * A composer is made once per campaign (or per `template render`): it loads
 * the template from the store and compiles it, reads the sender identity and
 * the unsubscribe settings, and loads every DKIM key held for the From
 * domain. Composing a message for one recipient then only merges, encodes
 * and signs.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/private.h"
#include "send/send.h"
#include "store/store.h"
#include "templates/templates.h"

#define MAX_KEYS 4

struct send_composer {
	struct tpl_campaign *tpl;
	struct send_dkim *dkim;
	size_t nkeys;
	char *from_name, *from_addr, *from_domain;
	char *sender_name, *postal, *contact;
	char *unsub_url, *unsub_mailto, *feedback_id, *list_id;
	char *list_name; /* {{list.name}}: the name of src->list */
	bool jis_carriers, test;
	struct tpl_unsub_mac *unsub_mac; /* makes the unsubscribe tokens */
	uint64_t campaign_id;
};

/* A setting, or dflt (copied) when it is unset or empty. */
static char *config_or(struct store *st, const char *key, const char *dflt)
{
	char *v = send_setting(st, key);

	return v != NULL || dflt == NULL ? v : strdup(dflt);
}

/* One mailbox, as templates/ reads it (tpl_mailbox_parse). */
enum send_status send_parse_from(const char *from, char **name, char **addr, char **errstr)
{
	enum tpl_status t = tpl_mailbox_parse(from, name, addr, errstr);

	return t == TPL_OK ? SEND_OK : t == TPL_ENOMEM ? SEND_ENOMEM : SEND_EINVAL;
}

struct key_ctx {
	struct send_dkim_key keys[MAX_KEYS];
	char *pem[MAX_KEYS];
	char *sel[MAX_KEYS];
	size_t n;
};

static int collect_key(const struct store_dkim_key *k, void *arg)
{
	struct key_ctx *kc = arg;
	size_t len;

	if (kc->n == MAX_KEYS || k->private_key == NULL)
		return 0;
	len = strlen(k->private_key) + 1;
	kc->pem[kc->n] = sodium_malloc(len);
	kc->sel[kc->n] = strdup(k->selector);
	if (kc->pem[kc->n] == NULL || kc->sel[kc->n] == NULL)
		return 1;
	memcpy(kc->pem[kc->n], k->private_key, len);
	kc->keys[kc->n].selector = kc->sel[kc->n];
	kc->keys[kc->n].alg =
	    strcmp(k->alg, "ed25519") == 0 ? SEND_DKIM_ED25519_SHA256 : SEND_DKIM_RSA_SHA256;
	kc->keys[kc->n].private_pem = kc->pem[kc->n];
	kc->n++;
	return 0;
}

static enum send_status load_dkim(struct store *st, struct send_composer *c, char **errstr)
{
	struct key_ctx kc;
	enum send_status s = SEND_OK;
	size_t i;

	memset(&kc, 0, sizeof(kc));
	if (store_dkim_list(st, c->from_domain, true, collect_key, &kc, NULL) != STORE_OK)
		s = send_err(errstr, SEND_EINVAL, "cannot read the DKIM keys of %s",
			     c->from_domain);
	for (i = 0; i < kc.n; i++)
		kc.keys[i].domain = c->from_domain;
	if (s == SEND_OK && kc.n > 0)
		s = send_dkim_new(kc.keys, kc.n, &c->dkim, errstr);
	c->nkeys = kc.n;
	for (i = 0; i < kc.n; i++) {
		sodium_free(kc.pem[i]);
		free(kc.sel[i]);
	}
	return s;
}

static enum send_status load_sender(struct store *st, struct send_composer *c, const char *from,
				    char **errstr)
{
	enum send_status s;
	char *cfg_from = NULL, *at, *jis;
	unsigned char key[TPL_UNSUB_KEY_LEN];
	bool ok;

	if (from == NULL || *from == '\0') {
		cfg_from = config_or(st, "sender.from", NULL);
		if (cfg_from == NULL)
			return send_err(errstr, SEND_EINVAL,
					"no From address: set sender.from or give --from");
		from = cfg_from;
	}
	s = send_parse_from(from, &c->from_name, &c->from_addr, errstr);
	free(cfg_from);
	if (s != SEND_OK)
		return s;
	c->sender_name = config_or(st, "sender.name", "");
	if (c->from_name[0] == '\0' && c->sender_name != NULL) {
		free(c->from_name);
		c->from_name = strdup(c->sender_name);
	}
	c->postal = config_or(st, "sender.postal_address", "");
	c->contact = config_or(st, "sender.contact", "");
	c->unsub_url = config_or(st, "unsubscribe.url", NULL);
	c->unsub_mailto = config_or(st, "unsubscribe.mailto", NULL);
	c->feedback_id = config_or(st, "feedback.id", "hato");
	at = strrchr(c->from_addr, '@');
	c->from_domain = strdup(at + 1);
	for (char *p = c->from_domain; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (c->from_name == NULL || c->sender_name == NULL || c->postal == NULL ||
	    c->contact == NULL || c->feedback_id == NULL || c->from_domain == NULL)
		return SEND_ENOMEM;
	jis = send_setting(st, "send.iso2022jp");
	s = send_iso2022jp_parse(jis, &c->jis_carriers, errstr);
	free(jis);
	if (s == SEND_OK)
		s = send_unsub_url_check(c->unsub_url, errstr);
	if (s == SEND_OK && c->unsub_mailto != NULL)
		s = send_mailto_check(c->unsub_mailto, errstr);
	if (s != SEND_OK)
		return s;
	ok = store_unsubscribe_key(st, key) == STORE_OK;
	if (ok && tpl_unsub_mac_new(key, &c->unsub_mac) != TPL_OK) {
		sodium_memzero(key, sizeof(key));
		return SEND_ENOMEM;
	}
	sodium_memzero(key, sizeof(key));
	return ok ? SEND_OK
		  : send_err(errstr, SEND_EINVAL, "the store's unsubscribe key is missing");
}

/*
 * The List-Id "<LIST.DOMAIN>" in out (outlen >= strlen(list) + strlen(domain)
 * + 4). LIST.DOMAIN must be a dot-atom (RFC 2919), so a dot that would leave
 * an empty label (lists named "a..b" or "a." before list add refused them) is
 * written '=', which no list id holds: a..b -> a.=b, distinct from any other.
 */
static void list_label(const char *list, const char *domain, char *out, size_t outlen)
{
	size_t i, o = 0;

	out[o++] = '<';
	for (i = 0; list[i] != '\0' && o + 1 < outlen; i++) {
		bool empty = list[i] == '.' && (out[o - 1] == '<' || out[o - 1] == '.' ||
						out[o - 1] == '=' || list[i + 1] == '\0');
		out[o++] = empty ? '=' : list[i];
	}
	out[o] = '\0';
	snprintf(out + o, outlen - o, ".%s>", domain);
}

enum send_status send_composer_new(struct store *st, const struct send_compose_src *src,
				   struct send_composer **out, char **errstr)
{
	struct send_composer *c = calloc(1, sizeof(*c));
	struct store_template *t = NULL;
	struct tpl_campaign_src ts;
	enum send_status s;
	char *terr = NULL;
	size_t n;

	*out = NULL;
	if (c == NULL)
		return SEND_ENOMEM;
	c->campaign_id = src->campaign_id;
	c->test = src->test;
	s = load_sender(st, c, src->from, errstr);
	if (s != SEND_OK)
		goto done;
	if (store_template_get(st, src->template_name, &t, &terr) != STORE_OK) {
		s = send_err(errstr, SEND_EINVAL, "%s", terr ? terr : "no such template");
		goto done;
	}
	memset(&ts, 0, sizeof(ts));
	ts.kind = strcmp(t->kind, "html") == 0 ? TPL_KIND_HTML : TPL_KIND_MARKDOWN;
	ts.src = t->source;
	ts.src_len = strlen(t->source);
	ts.text_src = t->text_source;
	ts.layout = t->layout;
	ts.subject = src->subject;
	if (tpl_campaign_compile(&ts, &c->tpl, &terr) != TPL_OK) {
		s = send_err(errstr, SEND_EINVAL, "template %s: %s", src->template_name,
			     terr ? terr : "does not compile");
		goto done;
	}
	n = strlen(src->list ? src->list : "list") + strlen(c->from_domain) + 8;
	c->list_id = malloc(n);
	if (c->list_id == NULL) {
		s = SEND_ENOMEM;
		goto done;
	}
	list_label(src->list ? src->list : "list", c->from_domain, c->list_id, n);
	if (src->list != NULL && store_list_name(st, src->list, &c->list_name, &terr) != STORE_OK) {
		s = send_err(errstr, SEND_EINVAL, "%s", terr ? terr : "no such list");
		goto done;
	}
	s = load_dkim(st, c, errstr);
done:
	free(terr);
	store_template_free(&t);
	if (s == SEND_OK)
		*out = c;
	else
		send_composer_free(&c);
	return s;
}

void send_composer_free(struct send_composer **cp)
{
	struct send_composer *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	tpl_campaign_free(&c->tpl);
	send_dkim_free(&c->dkim);
	free(c->from_name);
	free(c->from_addr);
	free(c->from_domain);
	free(c->sender_name);
	free(c->postal);
	free(c->contact);
	free(c->unsub_url);
	free(c->unsub_mailto);
	free(c->feedback_id);
	free(c->list_id);
	free(c->list_name);
	tpl_unsub_mac_free(&c->unsub_mac);
	free(c);
	*cp = NULL;
}

size_t send_composer_dkim_keys(const struct send_composer *c)
{
	return c->nkeys;
}

const char *send_composer_from_addr(const struct send_composer *c)
{
	return c->from_addr;
}

const char *send_composer_from_domain(const struct send_composer *c)
{
	return c->from_domain;
}

struct lookup_ctx {
	const struct send_composer *c;
	const struct send_recipient *r;
	const char *unsub;
};

static const char *lookup(const char *name, void *arg)
{
	struct lookup_ctx *l = arg;
	size_t i;

	if (strcmp(name, "name") == 0)
		return l->r->name;
	if (strcmp(name, "email") == 0)
		return l->r->email;
	if (strcmp(name, "unsubscribe_url") == 0)
		return l->unsub;
	if (strcmp(name, "list.name") == 0)
		return l->c->list_name;
	if (strcmp(name, "sender.name") == 0)
		return l->c->sender_name;
	if (strcmp(name, "sender.postal_address") == 0)
		return l->c->postal;
	if (strcmp(name, "sender.contact") == 0)
		return l->c->contact;
	if (strncmp(name, "attr.", 5) == 0)
		for (i = 0; i < l->r->nattrs; i++)
			if (strcmp(l->r->attr_keys[i], name + 5) == 0)
				return l->r->attr_values[i];
	return NULL;
}

const char *const send_known_tags[] = {
    "name",	      "email",	     "unsubscribe_url",
    "list.name",      "sender.name", "sender.postal_address",
    "sender.contact", "attr.",
};
const size_t send_known_tags_count = sizeof(send_known_tags) / sizeof(send_known_tags[0]);

static bool carrier_domain(const char *email)
{
	static const char *const carriers[] = {"docomo.ne.jp", "ezweb.ne.jp", "au.com",
					       "softbank.ne.jp", "i.softbank.jp"};
	const char *at = strrchr(email, '@');
	size_t i;

	for (i = 0; at != NULL && i < sizeof(carriers) / sizeof(carriers[0]); i++)
		if (strcasecmp(at + 1, carriers[i]) == 0)
			return true;
	return false;
}

enum send_status send_compose(const struct send_composer *c, const struct send_recipient *r,
			      struct send_composed *out, char **errstr)
{
	char token[TPL_UNSUB_TOKEN_LEN + 1], unsub[1024], lu[1200], fid[256];
	struct tpl_buf buf = {0};
	struct tpl_header h[7];
	struct tpl_message m;
	struct lookup_ctx l = {c, r, unsub};
	enum send_status s = SEND_OK;
	char *terr = NULL, *signed_msg = NULL;
	size_t nh = 0, signed_len = 0;

	memset(out, 0, sizeof(*out));
	tpl_unsub_mac_token(c->unsub_mac, r->subscriber_id, r->list_id, token);
	snprintf(unsub, sizeof(unsub), "%s%s%s", c->unsub_url,
		 c->unsub_url[strlen(c->unsub_url) - 1] == '/' ? "" : "/", token);
	/* The mailto's subject carries the token: `bounce read` follows it. */
	if (c->unsub_mailto != NULL)
		snprintf(lu, sizeof(lu), "<%s>, <mailto:%s?subject=unsubscribe%%20%s>", unsub,
			 c->unsub_mailto, token);
	else
		snprintf(lu, sizeof(lu), "<%s>", unsub);
	snprintf(fid, sizeof(fid), "%llu:%llu:%s", (unsigned long long)c->campaign_id,
		 (unsigned long long)r->list_id, c->feedback_id);
	if (tpl_message_id(c->from_domain, out->message_id, sizeof(out->message_id)) != TPL_OK)
		return send_err(errstr, SEND_EINVAL, "cannot make a Message-ID for %s",
				c->from_domain);
	h[nh++] = (struct tpl_header){"Message-ID", out->message_id};
	h[nh++] = (struct tpl_header){"List-Id", c->list_id};
	h[nh++] = (struct tpl_header){"List-Unsubscribe", lu};
	h[nh++] = (struct tpl_header){"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"};
	h[nh++] = (struct tpl_header){"Feedback-ID", fid};
	if (c->test)
		h[nh++] = (struct tpl_header){"X-Hato-Test", "yes"};
	memset(&m, 0, sizeof(m));
	m.from = (struct tpl_addr){c->from_name, c->from_addr};
	m.to = (struct tpl_addr){r->name, r->email};
	m.headers = h;
	m.nheaders = nh;
	m.iso2022jp = c->jis_carriers && carrier_domain(r->email);
	if (tpl_campaign_render(c->tpl, lookup, &l, &m, &buf, &terr) != TPL_OK) {
		s = send_err(errstr, SEND_EINVAL, "rendering for a recipient: %s",
			     terr ? terr : "failed");
		goto done;
	}
	if (c->dkim != NULL) {
		s = send_dkim_sign(c->dkim, buf.data, buf.len, &signed_msg, &signed_len, errstr);
		if (s != SEND_OK)
			goto done;
		out->data = signed_msg;
		out->len = signed_len;
	} else {
		out->len = buf.len;
		out->data = tpl_buf_steal(&buf);
	}
done:
	free(terr);
	tpl_buf_free(&buf);
	return s;
}

enum send_status send_composer_for_campaign(struct store *st, const struct store_campaign *c,
					    struct send_composer **out, char **errstr)
{
	struct send_compose_src src = {0};

	src.template_name = c->template_name;
	src.subject = c->subject;
	src.from = c->from;
	src.list = c->list;
	src.campaign_id = (uint64_t)c->id;
	return send_composer_new(st, &src, out, errstr);
}

void send_recipient_clear(struct send_recipient_buf *b)
{
	free(b->keys);
	free(b->values);
	store_subscriber_free(&b->sub);
	memset(b, 0, sizeof(*b));
}

enum send_status send_recipient_load(struct store *st, const char *email, const char *list,
				     struct send_recipient_buf *b, char **errstr)
{
	struct send_recipient *r = &b->r;
	enum store_status ss;
	char *serr = NULL;
	int64_t rowid = 0;
	size_t i;

	memset(b, 0, sizeof(*b));
	ss = store_subscriber_get(st, email, &b->sub, &serr);
	if (ss == STORE_OK && list == NULL && b->sub->nlists > 0)
		list = b->sub->lists[0].list;
	if (ss == STORE_OK && list != NULL)
		ss = store_list_rowid(st, list, &rowid, &serr);
	if (ss != STORE_OK) {
		enum send_status s =
		    send_err(errstr, ss == STORE_EDENIED ? SEND_EDENIED : SEND_EINVAL, "%s",
			     serr ? serr : store_strstatus(ss));
		free(serr);
		send_recipient_clear(b);
		return s;
	}
	b->keys = calloc(b->sub->nattrs + 1, sizeof(*b->keys));
	b->values = calloc(b->sub->nattrs + 1, sizeof(*b->values));
	if (b->keys == NULL || b->values == NULL) {
		send_recipient_clear(b);
		return SEND_ENOMEM;
	}
	for (i = 0; i < b->sub->nattrs; i++) {
		b->keys[i] = b->sub->attrs[i].key;
		b->values[i] = b->sub->attrs[i].value;
	}
	r->subscriber_id = (uint64_t)b->sub->id;
	r->list_id = (uint64_t)rowid;
	r->email = b->sub->email;
	r->name = b->sub->name;
	b->list = list;
	r->attr_keys = b->keys;
	r->attr_values = b->values;
	r->nattrs = b->sub->nattrs;
	return SEND_OK;
}

/* The envelope sender: b+CAMPAIGN.SUBSCRIBER.MAC@bounce.domain (VERP). */
void send_verp(const unsigned char key[32], const char *domain, int64_t campaign,
	       int64_t subscriber, char *out, size_t outlen)
{
	unsigned char msg[16], mac[crypto_auth_BYTES];
	char hex[17];
	int i;

	for (i = 0; i < 8; i++) {
		msg[i] = (unsigned char)((uint64_t)campaign >> (56 - 8 * i));
		msg[8 + i] = (unsigned char)((uint64_t)subscriber >> (56 - 8 * i));
	}
	crypto_auth(mac, msg, sizeof(msg), key);
	sodium_bin2hex(hex, sizeof(hex), mac, 8);
	snprintf(out, outlen, "b+%lld.%lld.%s@%s", (long long)campaign, (long long)subscriber, hex,
		 domain);
}

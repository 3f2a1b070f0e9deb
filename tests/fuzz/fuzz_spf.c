/*
 * tests/fuzz/fuzz_spf.c: libFuzzer target for the parsers of DNS data in
 * send/dns_records.c and send/dns.c. The first byte picks the parser; the
 * rest is the input:
 *   0  SPF record          send_spf_parse, send_spf_lookups
 *   1  DMARC record        send_dmarc_is_record, send_dmarc_parse
 *   2  DKIM key record     send_dkim_record_parse
 *   3  tag list            send_taglist_parse and its accessors
 *   4  DNS answer message  send_dns_parse_answer for A, AAAA, MX, TXT, PTR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, **rrs = NULL, *k = NULL, *p = NULL, *err = NULL;
	struct send_spf *spf = NULL;
	struct send_dmarc dm;
	struct send_taglist *t = NULL;

	if (size < 1 || size > 8192)
		return 0;
	if (data[0] % 5 == 4) {
		for (int type = SEND_DNS_A; type <= SEND_DNS_PTR; type++) {
			if (send_dns_parse_answer(data + 1, size - 1, (enum send_dns_type)type,
						  &rrs, &err) == SEND_OK)
				for (size_t i = 0; rrs[i] != NULL; i++)
					(void)strlen(rrs[i]);
			send_strv_free(&rrs);
			free(err);
			err = NULL;
		}
		return 0;
	}
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		if (send_spf_is_record(s) && send_spf_parse(s, &spf, &err) == SEND_OK) {
			if (send_spf_lookups(spf) < 0)
				abort();
			for (size_t i = 0; i < spf->nterms; i++)
				if (spf->terms[i].cidr4 > 32 || spf->terms[i].cidr6 > 128)
					abort();
		}
		send_spf_free(&spf);
		break;
	case 1:
		(void)send_dmarc_is_record(s);
		if (send_dmarc_parse(s, &dm, &err) == SEND_OK && (dm.pct < -1 || dm.pct > 100))
			abort();
		break;
	case 2:
		if (send_dkim_record_parse(s, &k, &p, &err) == SEND_OK && (k == NULL || p == NULL))
			abort();
		free(k);
		free(p);
		break;
	case 3:
		if (send_taglist_parse(s, &t, &err) == SEND_OK) {
			for (size_t i = 0; i < send_taglist_count(t); i++) {
				const char *name, *value;

				send_taglist_at(t, i, &name, &value);
				if (send_taglist_get(t, name) != value)
					abort(); /* names are unique */
			}
		}
		send_taglist_free(&t);
		break;
	}
	free(err);
	free(s);
	return 0;
}

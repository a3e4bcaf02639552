/* fanout.c: concurrent HTTP requests, one thread each (see fanout.h). */
#include "fanout.h"
#include "error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
	const struct pgha_http *model;
	struct pgha_deadline deadline; /* the shorter of d and per_request */
	struct pgha_fanout *item;
};

/* One request with a private client. */
static void *run_job(void *arg)
{
	struct job *j = arg;
	struct pgha_http h;

	pgha_http_init(&h);
	h.tls = j->model->tls;
	h.auth = j->model->auth;
	h.token = j->model->token;
	h.max_body = j->model->max_body;
	h.verbose = j->model->verbose;
	j->item->rc = pgha_http_request_url(&h, &j->deadline, j->item->method, j->item->url,
					    j->item->body, &j->item->resp);
	pgha_http_free(&h);
	return NULL;
}

int pgha_fanout_run(const struct pgha_http *model, const struct pgha_deadline *d,
		    int64_t per_request_ms, struct pgha_fanout *items, size_t n)
{
	struct job *jobs = calloc(n ? n : 1, sizeof *jobs);
	pthread_t *threads = calloc(n ? n : 1, sizeof *threads);
	bool *started = calloc(n ? n : 1, sizeof *started);
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		pgha_http_response_init(&items[i].resp, model->max_body);
		items[i].rc = PGHA_E_NOMEM;
	}
	if (!jobs || !threads || !started) {
		rc = PGHA_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i].model = model;
		jobs[i].item = &items[i];
		jobs[i].deadline = *d;
		if (per_request_ms > 0) {
			struct pgha_deadline short_one = { pgha_now_ms() + per_request_ms };
			if (short_one.end_ms < d->end_ms)
				jobs[i].deadline = short_one;
		}
		started[i] = pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0;
		if (!started[i])
			run_job(&jobs[i]); /* no thread to be had: do it here */
	}
	for (size_t i = 0; i < n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
out:
	free(jobs);
	free(threads);
	free(started);
	return rc;
}

void pgha_fanout_free(struct pgha_fanout *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pgha_http_response_free(&items[i].resp);
}

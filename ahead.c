/*
 * ahead.c - gzip content inflated ahead of the writer (see ahead.h).
 *
 * Jobs are taken in list order and released in list order, so the job the
 * writer waits for has always been taken already: no deadlock, whatever
 * the number of workers. One lock and one condition variable guard the
 * job states; the buffers are filled outside the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead.h"

#define MAX_WORKERS 8
#define AHEAD_PER_WORKER 2

/* Bytes LEN at POS of entry E, which lie in one span of layer LAYER. */
struct part {
	const struct tar_entry *e;
	struct tar_in *in;
	uint64_t pos, len;
	uint64_t boff;          /* where they go in the job's buffer */
	uint32_t layer;
	size_t job;
};

enum { JOB_WAITING, JOB_RUNNING, JOB_READY, JOB_FAILED };

/* A run of parts in one span of one layer. */
struct job {
	size_t first, n;        /* parts */
	uint64_t bytes;
	uint64_t span;          /* the span's start, with the layer below */
	unsigned char *buf;
	int state;
	struct tar_err err;
};

struct worker {
	struct ahead *a;
	pthread_t tid;
	struct tar_cursor **cur;        /* by layer, made when first needed */
	size_t ncur;
};

struct ahead {
	struct part *parts;
	size_t nparts, cap;
	struct job *jobs;
	size_t njobs, jcap;
	size_t nentries;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next;            /* the next job for a worker */
	size_t released;        /* jobs the writer is done with */
	size_t inflight;        /* how many jobs may be taken past RELEASED */
	size_t cur;             /* the writer's next part */
	int stop;

	struct worker w[MAX_WORKERS];
	size_t nworkers, started;
	struct worker self;     /* the writer's own, when no thread started */
};

struct ahead *
ahead_new(size_t nworkers)
{
	struct ahead *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->nworkers = nworkers < 1 ? 1 : nworkers > MAX_WORKERS ? MAX_WORKERS : nworkers;
	a->inflight = AHEAD_PER_WORKER * a->nworkers + 2;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->self.a = a;
	return a;
}

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 256;
	void *p = realloc(*v, c * size);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

int
ahead_add(struct ahead *a, struct tar_in *in, uint32_t layer, const struct tar_entry *e)
{
	for (uint64_t pos = 0; pos < e->size;) {
		uint64_t off = e->data_off + pos;
		uint64_t span = tar_in_span_start(in, off), end = tar_in_span_end(in, off);
		uint64_t len = e->size - pos;
		if (end > off && len > end - off)
			len = end - off;
		struct job *j = a->njobs ? &a->jobs[a->njobs - 1] : NULL;
		if (!j || j->span != span || a->parts[j->first].in != in) {
			if (grow((void **)&a->jobs, &a->jcap, a->njobs, sizeof(*a->jobs)) < 0)
				return -1;
			j = &a->jobs[a->njobs++];
			memset(j, 0, sizeof(*j));
			j->first = a->nparts;
			j->span = span;
		}
		if (grow((void **)&a->parts, &a->cap, a->nparts, sizeof(*a->parts)) < 0)
			return -1;
		a->parts[a->nparts++] = (struct part){ e, in, pos, len, j->bytes, layer,
						       (size_t)(j - a->jobs) };
		j->n++;
		j->bytes += len;
		pos += len;
	}
	a->nentries++;
	return 0;
}

size_t
ahead_count(const struct ahead *a)
{
	return a->nentries;
}

/* Fills job J's buffer through W's cursors; outside the lock. */
static int
run_job(struct worker *w, struct job *j)
{
	struct ahead *a = w->a;

	if (!(j->buf = malloc(j->bytes ? (size_t)j->bytes : 1))) {
		snprintf(j->err.msg, sizeof(j->err.msg), "out of memory");
		return -1;
	}
	for (size_t i = j->first; i < j->first + j->n; i++) {
		const struct part *p = &a->parts[i];
		if (p->layer >= w->ncur) {
			struct tar_cursor **v = realloc(w->cur, (p->layer + 1) * sizeof(*v));
			if (!v) {
				snprintf(j->err.msg, sizeof(j->err.msg), "out of memory");
				return -1;
			}
			memset(v + w->ncur, 0, (p->layer + 1 - w->ncur) * sizeof(*v));
			w->cur = v;
			w->ncur = p->layer + 1;
		}
		if (!w->cur[p->layer] && !(w->cur[p->layer] = tar_cursor_new(p->in))) {
			snprintf(j->err.msg, sizeof(j->err.msg), "out of memory");
			return -1;
		}
		if (tar_cursor_read(w->cur[p->layer], p->e, p->pos, j->buf + p->boff,
				    (size_t)p->len, &j->err) < 0)
			return -1;
	}
	return 0;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct ahead *a = w->a;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->stop && a->next < a->njobs && a->next >= a->released + a->inflight)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop || a->next >= a->njobs)
			break;
		struct job *j = &a->jobs[a->next++];
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&a->mu);
		int r = run_job(w, j);
		pthread_mutex_lock(&a->mu);
		j->state = r < 0 ? JOB_FAILED : JOB_READY;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int
ahead_start(struct ahead *a)
{
	for (size_t i = 0; i < a->nworkers; i++) {
		a->w[i].a = a;
		if (pthread_create(&a->w[i].tid, NULL, work, &a->w[i]) != 0)
			break;
		a->started++;
	}
	return a->started ? 0 : -1;
}

/* The writer is done with the oldest job: its buffer goes, and a worker
 * may take one more. Called with the lock held. */
static void
release(struct ahead *a)
{
	struct job *j = &a->jobs[a->released++];

	free(j->buf);
	j->buf = NULL;
	pthread_cond_broadcast(&a->cv);
}

const void *
ahead_next(struct ahead *a, const struct tar_entry *e, size_t *len, struct tar_err *err,
	   uint32_t *layer)
{
	pthread_mutex_lock(&a->mu);
	if (a->cur > 0 && a->released < a->njobs &&
	    a->cur == a->jobs[a->released].first + a->jobs[a->released].n)
		release(a);
	if (a->cur >= a->nparts || a->parts[a->cur].e != e) {
		pthread_mutex_unlock(&a->mu);
		snprintf(err->msg, sizeof(err->msg), "content read out of order");
		err->off = e->hdr_off;
		*layer = 0;
		return NULL;
	}
	const struct part *p = &a->parts[a->cur];
	struct job *j = &a->jobs[p->job];
	if (!a->started && j->state == JOB_WAITING) {
		/* no worker: the writer fills the job itself */
		j->state = run_job(&a->self, j) < 0 ? JOB_FAILED : JOB_READY;
	}
	while (j->state == JOB_WAITING || j->state == JOB_RUNNING)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
	*layer = p->layer;
	if (j->state == JOB_FAILED) {
		*err = j->err;
		return NULL;
	}
	a->cur++;
	*len = (size_t)p->len;
	return j->buf + p->boff;
}

static void
free_cursors(struct worker *w)
{
	for (size_t i = 0; i < w->ncur; i++)
		if (w->cur[i])
			tar_cursor_free(w->cur[i]);
	free(w->cur);
}

void
ahead_free(struct ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	for (size_t i = 0; i < a->started; i++)
		pthread_join(a->w[i].tid, NULL);
	for (size_t i = 0; i < a->started; i++)
		free_cursors(&a->w[i]);
	free_cursors(&a->self);
	for (size_t i = 0; i < a->njobs; i++)
		free(a->jobs[i].buf);
	free(a->jobs);
	free(a->parts);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/*
 * ahead.c - gzip content inflated ahead of the writer (see ahead.h).
 *
 * The plan (ahead_start) puts every part of the list into a job: the
 * job of its span that is still open, or a new one. Jobs are numbered by
 * their first use, so workers take them in that order and the job the
 * writer waits for has always been allowed: no deadlock, whatever the
 * number of workers. A part's bytes are held from its job's first use to
 * its own, and a part joins an open job only while the bytes held at
 * every moment stay within HOLD_BYTES; those sums are kept over job time
 * in a segment tree (range add, range max). One lock and one condition
 * variable guard the job states; the buffers are filled outside the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead.h"
#include "hlmap.h"

#define MAX_WORKERS 8
#define HOLD_BYTES ((uint64_t)64 << 20) /* content kept for later parts */

/*
 * LEN bytes at OFF of layer LAYER's stream, in one span of it: a piece of
 * one entry's content, or the contents of entries that follow each other
 * in the list and lie close together in the layer (with the headers
 * between them), so that a layer of small files costs a part per
 * MERGE_MAX of content, not one per file.
 */
struct part {
	uint64_t off;           /* in the layer's uncompressed stream */
	unsigned char *buf;     /* the bytes, from the job's run to their use */
	uint32_t job;
	uint32_t nextp;         /* the job's next part, in list order, or NONE */
	uint32_t len;           /* at most PART_MAX */
	uint32_t layer;
};

#define NONE UINT32_MAX         /* parts and jobs number fewer */

/* A span is about TAR_SPAN bytes of output, but one deflate block can make
 * a span of gigabytes: parts and jobs are cut smaller, so that memory does
 * not grow with it (such a span is then read by several jobs, each one
 * inflating forward from where its worker's cursor stands). */
#define PART_MAX (1u << 20)
#define JOB_MAX ((uint64_t)4 << 20)
#define PART_GAP 8192           /* bytes between two contents one part
                                 * holds: headers, padding */
#define MERGE_MAX (64u << 10)   /* contents share a part up to this: a
                                 * part is held until its last byte is
                                 * written, so large shared ones would
                                 * hold more and make the plan inflate
                                 * spans again */

enum { JOB_WAITING, JOB_RUNNING, JOB_READY, JOB_FAILED };

/* Parts of one span of one layer, inflated in one pass. */
struct job {
	uint32_t first, lastp, n; /* parts: the first and last in list order */
	uint64_t bytes;         /* theirs, at most JOB_MAX */
	int state;
	struct tar_err err;
};

struct worker {
	struct ahead *a;
	pthread_t tid;
	struct tar_cursor **cur;        /* by layer, made when first needed */
	size_t ncur;
	struct stored *order;           /* a job's parts in stored order */
	size_t ocap;
};

struct ahead {
	struct part *parts;
	size_t nparts, cap;
	struct tar_in **in;     /* by layer */
	size_t nin;
	struct job *jobs;
	size_t njobs;
	size_t nentries;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next;            /* the next job for a worker */
	size_t begun;           /* jobs whose first part the writer reached */
	size_t inflight;        /* how many jobs may be taken past BEGUN */
	size_t cur;             /* the writer's next part */
	size_t hold;            /* the part returned last, or SIZE_MAX */
	int stop;

	struct worker w[MAX_WORKERS];
	size_t nworkers, started;
	struct worker self;     /* the writer's own, when no thread runs */
};

struct ahead *
ahead_new(size_t nworkers)
{
	struct ahead *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->nworkers = nworkers > MAX_WORKERS ? MAX_WORKERS : nworkers;
	/* a job ahead per worker: more only holds more buffers (2 MiB a
	 * span of small files) and was no faster */
	a->inflight = a->nworkers;
	a->hold = SIZE_MAX;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->self.a = a;
	return a;
}

int
ahead_add(struct ahead *a, struct tar_in *in, uint32_t layer, uint64_t data_off, uint64_t size)
{
	if (layer >= a->nin) {
		struct tar_in **v = realloc(a->in, (layer + 1) * sizeof(*v));
		if (!v)
			return -1;
		memset(v + a->nin, 0, (layer + 1 - a->nin) * sizeof(*v));
		a->in = v;
		a->nin = layer + 1;
	}
	a->in[layer] = in;
	for (uint64_t pos = 0; pos < size;) {
		uint64_t off = data_off + pos;
		uint64_t end = tar_in_span_end(in, off), len = size - pos;
		if (end > off && len > end - off)
			len = end - off;
		if (len > PART_MAX)
			len = PART_MAX;
		struct part *q = a->nparts ? &a->parts[a->nparts - 1] : NULL;
		if (q && q->layer == layer && off >= q->off + q->len &&
		    off - (q->off + q->len) <= PART_GAP && off + len - q->off <= MERGE_MAX &&
		    tar_in_span_start(in, off) == tar_in_span_start(in, q->off)) {
			/* close behind the last part, in its span: one part */
			q->len = (uint32_t)(off + len - q->off);
			pos += len;
			continue;
		}
		if (a->nparts == NONE - 1) {
			errno = ENOMEM;
			return -1;
		}
		if (a->nparts == a->cap) {
			size_t c = a->cap ? a->cap * 2 : 256;
			struct part *v = realloc(a->parts, c * sizeof(*v));
			if (!v)
				return -1;
			a->parts = v;
			a->cap = c;
		}
		a->parts[a->nparts++] = (struct part){ .off = off, .len = (uint32_t)len,
						       .layer = layer };
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

/* ---- the plan --------------------------------------------------------- */

/*
 * The bytes held at each job time: a segment tree over [0, size) whose
 * node i covers its children 2i and 2i+1, holding the max below it with
 * its own pending add included (adds are never pushed down).
 */
struct held {
	uint64_t *mx, *ad;
	size_t size;
};

static void
held_add(struct held *h, size_t i, size_t lo, size_t hi, size_t l, size_t r, uint64_t v)
{
	if (r < lo || hi < l)
		return;
	if (l <= lo && hi <= r) {
		h->mx[i] += v;
		h->ad[i] += v;
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	held_add(h, 2 * i, lo, mid, l, r, v);
	held_add(h, 2 * i + 1, mid + 1, hi, l, r, v);
	uint64_t a = h->mx[2 * i], b = h->mx[2 * i + 1];
	h->mx[i] = (a > b ? a : b) + h->ad[i];
}

static uint64_t
held_max(const struct held *h, size_t i, size_t lo, size_t hi, size_t l, size_t r)
{
	if (r < lo || hi < l)
		return 0;
	if (l <= lo && hi <= r)
		return h->mx[i];
	size_t mid = lo + (hi - lo) / 2;
	uint64_t a = held_max(h, 2 * i, lo, mid, l, r);
	uint64_t b = held_max(h, 2 * i + 1, mid + 1, hi, l, r);
	return (a > b ? a : b) + h->ad[i];
}

/* The open job of one span. */
struct group {
	uint32_t layer;
	uint64_t span;
	size_t job;
};

static int
group_match(const void *item, const void *key)
{
	const struct group *g = item, *k = key;
	return g->layer == k->layer && g->span == k->span;
}

static uint64_t
group_hash(const void *item, void *ctx)
{
	const struct group *g = item;

	(void)ctx;
	return hl_hash(&g->span, sizeof(g->span), g->layer);
}

/* The start of the span that holds part P. */
static uint64_t
span_of(const struct ahead *a, const struct part *p)
{
	return tar_in_span_start(a->in[p->layer], p->off);
}

/* Adds part P to job J. */
static void
join(struct ahead *a, size_t p, size_t j)
{
	struct job *jb = &a->jobs[j];

	if (jb->n++)
		a->parts[jb->lastp].nextp = (uint32_t)p;
	else
		jb->first = (uint32_t)p;
	jb->lastp = (uint32_t)p;
	a->parts[p].job = (uint32_t)j;
	a->parts[p].nextp = NONE;
}

/*
 * The run of parts that starts at P: parts of one span, back to back in
 * the list, at most JOB_MAX bytes (at least one part). Returns the index
 * after it; *BYTES gets its size.
 */
static size_t
run_end(const struct ahead *a, size_t p, uint64_t *bytes)
{
	struct group k = { a->parts[p].layer, span_of(a, &a->parts[p]), 0 };
	size_t q = p;

	*bytes = 0;
	while (q < a->nparts) {
		const struct part *pt = &a->parts[q];
		struct group g = { pt->layer, span_of(a, pt), 0 };
		if (q > p && (!group_match(&g, &k) || *bytes + pt->len > JOB_MAX))
			break;
		*bytes += pt->len;
		q++;
	}
	return q;
}

/*
 * Puts each run of parts into a job: the open job of its span, when that
 * stays within JOB_MAX bytes and the bytes held at every job time since
 * that job began stay within HOLD_BYTES (a part's bytes are held from its
 * job's first use to its own); else a new job, which holds the run only
 * at its own time (so what is held at once exceeds HOLD_BYTES by at most
 * a job). Each run opens at most one job, which bounds the tree's size.
 */
static int
plan(struct ahead *a)
{
	size_t runs = 0;
	uint64_t bytes;
	for (size_t p = 0; p < a->nparts; p = run_end(a, p, &bytes))
		runs++;
	struct held h = { NULL, NULL, 1 };
	while (h.size < runs)
		h.size *= 2;
	h.mx = calloc(2 * h.size, sizeof(*h.mx));
	h.ad = calloc(2 * h.size, sizeof(*h.ad));
	struct group *gs = malloc((runs ? runs : 1) * sizeof(*gs));
	struct hlmap *open = hl_new(group_match, group_hash, NULL);
	a->jobs = calloc(runs ? runs : 1, sizeof(*a->jobs));
	int rc = -1;
	if (!h.mx || !h.ad || !gs || !open || !a->jobs)
		goto out;
	size_t ng = 0, top = h.size - 1;
	for (size_t p = 0, q; p < a->nparts; p = q) {
		q = run_end(a, p, &bytes);
		struct part *pt = &a->parts[p];
		struct group key = { pt->layer, span_of(a, pt), 0 };
		uint64_t hash = group_hash(&key, NULL);
		struct group *g = hl_get(open, hash, &key);
		size_t now = a->njobs - 1, j;
		if (g && a->jobs[g->job].bytes + bytes <= JOB_MAX &&
		    held_max(&h, 1, 0, top, g->job, now) + bytes <= HOLD_BYTES) {
			j = g->job;
			held_add(&h, 1, 0, top, j, now, bytes);
		} else {
			if (!g) {
				g = &gs[ng++];
				*g = key;
				if (hl_add(open, hash, g) < 0)
					goto out;
			}
			j = g->job = a->njobs++;
			held_add(&h, 1, 0, top, j, j, bytes);
		}
		for (size_t r = p; r < q; r++)
			join(a, r, j);
		a->jobs[j].bytes += bytes;
	}
	rc = 0;
out:
	free(h.mx);
	free(h.ad);
	free(gs);
	hl_free(open);
	return rc;
}

/* ---- the workers ------------------------------------------------------ */

/* A part of a job, by where its bytes are stored in the layer. */
struct stored {
	uint64_t off;
	size_t part;
};

static int
by_stored(const void *x, const void *y)
{
	uint64_t a = ((const struct stored *)x)->off, b = ((const struct stored *)y)->off;
	return (a > b) - (a < b);
}

static int
job_failed(struct job *j, const char *msg)
{
	snprintf(j->err.msg, sizeof(j->err.msg), "%s", msg);
	return -1;
}

/* Fills the buffers of job J's parts through W's cursors, in one forward
 * pass over its span; outside the lock. */
static int
run_job(struct worker *w, struct job *j)
{
	struct ahead *a = w->a;
	uint32_t layer = a->parts[j->first].layer;

	if (j->n > w->ocap) {
		struct stored *v = realloc(w->order, j->n * sizeof(*v));
		if (!v)
			return job_failed(j, "out of memory");
		w->order = v;
		w->ocap = j->n;
	}
	size_t k = 0;
	for (size_t p = j->first; p != NONE; p = a->parts[p].nextp)
		w->order[k++] = (struct stored){ a->parts[p].off, p };
	qsort(w->order, k, sizeof(*w->order), by_stored);
	if (layer >= w->ncur) {
		struct tar_cursor **v = realloc(w->cur, (layer + 1) * sizeof(*v));
		if (!v)
			return job_failed(j, "out of memory");
		memset(v + w->ncur, 0, (layer + 1 - w->ncur) * sizeof(*v));
		w->cur = v;
		w->ncur = layer + 1;
	}
	if (!w->cur[layer] && !(w->cur[layer] = tar_cursor_new(a->in[layer])))
		return job_failed(j, "out of memory");
	for (size_t i = 0; i < k; i++) {
		struct part *p = &a->parts[w->order[i].part];
		if (!(p->buf = malloc((size_t)p->len)))
			return job_failed(j, "out of memory");
		if (tar_cursor_read_stored(w->cur[layer], p->off, p->buf, (size_t)p->len,
					   &j->err) < 0)
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
		while (!a->stop && a->next < a->njobs && a->next >= a->begun + a->inflight)
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
	if (plan(a) < 0)
		return -1;
	for (size_t i = 0; i < a->nworkers; i++) {
		a->w[i].a = a;
		if (pthread_create(&a->w[i].tid, NULL, work, &a->w[i]) != 0)
			break;
		a->started++;
	}
	return 0;
}

const void *
ahead_next(struct ahead *a, uint32_t in_layer, uint64_t off, uint64_t want, size_t *len,
	   struct tar_err *err, uint32_t *layer)
{
	pthread_mutex_lock(&a->mu);
	if (a->hold != SIZE_MAX) {
		struct part *h = &a->parts[a->hold];
		const struct part *n = a->cur < a->nparts ? &a->parts[a->cur] : NULL;
		/* more of the part returned last, unless the next part starts
		 * here: a content that lies between two that share a part, but
		 * is written after them, has a part of its own */
		if (h->layer == in_layer && off >= h->off && off < h->off + h->len &&
		    !(n && n->layer == in_layer && n->off == off)) {
			pthread_mutex_unlock(&a->mu);
			*layer = in_layer;
			*len = (size_t)(want < h->off + h->len - off ? want : h->off + h->len - off);
			return h->buf + (off - h->off);
		}
		/* the writer is done with that part */
		free(h->buf);
		h->buf = NULL;
		a->hold = SIZE_MAX;
	}
	if (a->cur >= a->nparts || a->parts[a->cur].layer != in_layer ||
	    a->parts[a->cur].off != off) {
		pthread_mutex_unlock(&a->mu);
		snprintf(err->msg, sizeof(err->msg), "content read out of order");
		err->off = off;
		*layer = in_layer;
		return NULL;
	}
	const struct part *p = &a->parts[a->cur];
	struct job *j = &a->jobs[p->job];
	if (p->job >= a->begun) {
		/* the first part of a job: a worker may take one more */
		a->begun = p->job + 1;
		pthread_cond_broadcast(&a->cv);
	}
	if (!a->started && j->state == JOB_WAITING) {
		/* no worker: the writer fills the job itself */
		j->state = run_job(&a->self, j) < 0 ? JOB_FAILED : JOB_READY;
	}
	while (j->state == JOB_WAITING || j->state == JOB_RUNNING)
		pthread_cond_wait(&a->cv, &a->mu);
	*layer = p->layer;
	if (j->state == JOB_FAILED) {
		pthread_mutex_unlock(&a->mu);
		*err = j->err;
		return NULL;
	}
	a->hold = a->cur++;
	pthread_mutex_unlock(&a->mu);
	*len = (size_t)(want < p->len ? want : p->len);
	return p->buf;
}

static void
free_worker(struct worker *w)
{
	for (size_t i = 0; i < w->ncur; i++)
		if (w->cur[i])
			tar_cursor_free(w->cur[i]);
	free(w->cur);
	free(w->order);
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
		free_worker(&a->w[i]);
	free_worker(&a->self);
	for (size_t i = 0; i < a->nparts; i++)
		free(a->parts[i].buf);
	free(a->jobs);
	free(a->parts);
	free(a->in);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/*
 * lock.h: the cluster lock of the runbook engine, an etcd key bound to a
 * lease (shared design etcd-api.md, "Runbook lock"). (Being written.)
 */
#ifndef PGHA_LOCK_H
#define PGHA_LOCK_H

#endif

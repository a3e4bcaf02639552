/*
 * walarchive.h: (being written)
 */
#ifndef PGHA_WALARCHIVE_H
#define PGHA_WALARCHIVE_H

#endif

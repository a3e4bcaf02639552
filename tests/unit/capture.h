/*
 * capture.h: run a function with stdout sent to a temporary file and get
 * what it printed (header only, for the unit tests).
 */
#ifndef PGHA_CAPTURE_H
#define PGHA_CAPTURE_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Redirect stdout to a fresh temporary file; returns the saved fd. */
static int capture_start(void)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	FILE *tmp = tmpfile();
	if (saved < 0 || !tmp)
		abort();
	dup2(fileno(tmp), STDOUT_FILENO);
	fclose(tmp); /* the dup keeps it open */
	return saved;
}

/* Restore stdout and return what was printed (caller frees). */
static char *capture_end(int saved)
{
	fflush(stdout);
	off_t len = lseek(STDOUT_FILENO, 0, SEEK_END);
	char *text = malloc((size_t)len + 1);
	if (!text)
		abort();
	ssize_t got = pread(STDOUT_FILENO, text, (size_t)len, 0);
	text[got > 0 ? got : 0] = '\0';
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return text;
}

#endif

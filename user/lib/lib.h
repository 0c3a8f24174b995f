/* What the user library's parts share with each other, and programs do not see. */
#ifndef MICA_USER_LIB_H
#define MICA_USER_LIB_H

/* Writes out whatever stdout holds, even a partial line. */
void stdout_flush(void);

#endif

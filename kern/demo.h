#ifndef MICA_KERN_DEMO_H
#define MICA_KERN_DEMO_H
/* What `make run` shows after boot; it grows with every issue. */
void demo_run(void);
#endif

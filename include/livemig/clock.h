/* Monotonic time and short sleeps, shared by the driver and the engines. */
#ifndef LIVEMIG_CLOCK_H
#define LIVEMIG_CLOCK_H

double lm_now(void); /* monotonic seconds */
void lm_sleep_us(long us);

#endif

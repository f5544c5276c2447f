/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/timer.h -- event queue timers.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Each call dispatches through the VI's ops table.
 * The timers need a VI allocated with EF_VI_ENABLE_EV_TIMER.
 */

#ifndef __ETHERFABRIC_TOOLS_H__
#define __ETHERFABRIC_TOOLS_H__

#ifdef __cplusplus
extern "C" {
#endif

struct ef_vi;

/* Stop the timer of event queue q (no timeout event) and load it with about
 * v microseconds; it starts counting when the next event arrives and raises
 * a timeout event when it reaches zero. */
#define ef_eventq_timer_prime(q, v) (q)->ops.eventq_timer_prime(q, v)

/* As ef_eventq_timer_prime(), but the timer starts counting at once. */
#define ef_eventq_timer_run(q, v) (q)->ops.eventq_timer_run(q, v)

/* Stop the timer without a timeout event; it stays stopped. */
#define ef_eventq_timer_clear(q) (q)->ops.eventq_timer_clear(q)

/* Stop the timer and load it with zero, so the next event on the queue
 * also raises a timeout event. */
#define ef_eventq_timer_zero(q) (q)->ops.eventq_timer_zero(q)

#ifdef __cplusplus
}
#endif

#endif /* __ETHERFABRIC_TOOLS_H__ */

/*
 * File: test/conformance/mig/bytes/include/mach/mig_support.h
 * Purpose: the Hurd-side <mach/mig_support.h> MIG's user stubs include, which a Linux host
 *          lacks: declarations only. runtime.c defines these functions for the byte
 *          conformance driver (mach_msg dumps the request instead of sending it).
 */
#ifndef _MACH_MIG_SUPPORT_H_
#define _MACH_MIG_SUPPORT_H_

#include <mach/std_types.h>
#include <mach/message.h>
#include <mach/port.h>

extern void mig_init (void *);
extern void mig_allocate (vm_address_t *, vm_size_t);
extern void mig_deallocate (vm_address_t, vm_size_t);
extern void mig_dealloc_reply_port (mach_port_t);
extern void mig_put_reply_port (mach_port_t);
extern mach_port_t mig_get_reply_port (void);
extern vm_size_t mig_strncpy (char *, const char *, vm_size_t);
extern mach_msg_return_t mach_msg (mach_msg_header_t *, mach_msg_option_t, mach_msg_size_t,
                                   mach_msg_size_t, mach_port_t, mach_msg_timeout_t, mach_port_t);

#endif /* _MACH_MIG_SUPPORT_H_ */

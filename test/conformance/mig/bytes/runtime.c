/*
 * File: test/conformance/mig/bytes/runtime.c
 * Purpose: what MIG's user stubs call, for the byte conformance driver: mach_msg prints
 *          the request it is given (msgh_size bytes, in hex) and the out-of-line regions its
 *          descriptors point to, then fails with MACH_SEND_INVALID_DEST so the stub returns
 *          at once; the reply-port functions hand out one constant name; mig_strncpy is
 *          glibc's (at most N-1 bytes, the rest of them zero-filled, then a NUL).
 *
 * Output lines (stdout):
 *   M <option> <send_size> <rcv_size> <rcv_name> <timeout> <notify> <hex of the message>
 *   O <hex of one out-of-line region>          (one per out-of-line item, in order)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mach/message.h>
#include <mach/mig_support.h>

#ifndef BYTES_REPLY_PORT
#define BYTES_REPLY_PORT 0xabc
#endif

mach_port_t mig_get_reply_port (void) { return BYTES_REPLY_PORT; }
void mig_put_reply_port (mach_port_t port) { (void) port; }
void mig_dealloc_reply_port (mach_port_t port) { (void) port; }
void mig_init (void *p) { (void) p; }

void mig_allocate (vm_address_t *addr, vm_size_t size)
{
  *addr = (vm_address_t) calloc (1, size ? size : 1);
}

void mig_deallocate (vm_address_t addr, vm_size_t size)
{
  (void) addr;
  (void) size;
}

vm_size_t mig_strncpy (char *dst, const char *src, vm_size_t len)
{
  vm_size_t i = 0, n;
  if (len == 0)
    return 0;
  while (i < len - 1 && src[i] != '\0')
    {
      dst[i] = src[i];
      i++;
    }
  n = i;
  while (i < len - 1)
    dst[i++] = '\0';
  dst[len - 1] = '\0';
  return n;
}

static void hex (const unsigned char *p, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++)
    {
      putchar (digits[p[i] >> 4]);
      putchar (digits[p[i] & 15]);
    }
}

mach_msg_return_t mach_msg (mach_msg_header_t *msg, mach_msg_option_t option, mach_msg_size_t send_size,
                            mach_msg_size_t rcv_size, mach_port_t rcv_name, mach_msg_timeout_t timeout,
                            mach_port_t notify)
{
  const unsigned char *bytes = (const unsigned char *) msg;
  mach_msg_size_t size = msg->msgh_size;
  printf ("M %u %u %u %u %u %u ", (unsigned) option, (unsigned) send_size, (unsigned) rcv_size,
          (unsigned) rcv_name, (unsigned) timeout, (unsigned) notify);
  hex (bytes, size);
  putchar ('\n');

  /* Walk the descriptors and print each out-of-line region. */
  mach_msg_size_t at = sizeof (mach_msg_header_t);
  while (at + sizeof (mach_msg_type_t) <= size)
    {
      const mach_msg_type_t *t = (const mach_msg_type_t *) (bytes + at);
      unsigned long name, bits, number;
      if (t->msgt_longform)
        {
          const mach_msg_type_long_t *l = (const mach_msg_type_long_t *) t;
          name = l->msgtl_name;
          bits = l->msgtl_size;
          number = l->msgtl_number;
          at += sizeof (mach_msg_type_long_t);
        }
      else
        {
          name = t->msgt_name;
          bits = t->msgt_size;
          number = t->msgt_number;
          at += sizeof (mach_msg_type_t);
        }
      (void) name;
      unsigned long length = (number * bits + 7) / 8;
      if (t->msgt_inline)
        at += (length + 3) & ~3ul;
      else
        {
          const unsigned char *region;
          memcpy (&region, bytes + at, sizeof region);
          printf ("O ");
          hex (region, length);
          putchar ('\n');
          at += sizeof (void *);
        }
    }
  fflush (stdout);
  return MACH_SEND_INVALID_DEST;
}

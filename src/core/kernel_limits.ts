/**
 * Limits the kernel defines, as plain constants. Pure: every layer may use
 * them, and they import nothing.
 */

/** The largest value the `vm.max_map_count` sysctl accepts: it is a C int (kernel/sysctl.c, proc_dointvec). */
export const INT_MAX = 2_147_483_647;

/** include/linux/mm.h: DEFAULT_MAX_MAP_COUNT = USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN (5). */
export const KERNEL_DEFAULT_LIMIT = 65_530;

/** pid_max is at most 2^22 (include/linux/threads.h PID_MAX_LIMIT). */
export const PID_MAX_LIMIT = 4_194_304;

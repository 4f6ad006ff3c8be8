/* cgroup.c - placeholder until written */

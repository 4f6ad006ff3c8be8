/* cgroup_v2.c - placeholder until written */

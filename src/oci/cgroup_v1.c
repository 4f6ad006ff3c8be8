/* cgroup_v1.c - placeholder until written */

/* lazy_nft.h - libnftables, loaded on first use (see lazy_nft.c).
 *
 *   lazy_nft_error()   why libnftables could not be loaded, or NULL
 */
#ifndef BERTH_NET_LAZY_NFT_H
#define BERTH_NET_LAZY_NFT_H

const char *lazy_nft_error(void);

#endif

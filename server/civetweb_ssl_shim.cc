// A stand-in "libssl.so" for CivetWeb 1.15 (Debian 12's libcivetweb1) on OpenSSL 3.
//
// CivetWeb loads OpenSSL at run time: dlopen("libssl.so"), then dlsym() of each function it uses.
// One of them, SSL_get_peer_certificate, is only a macro in OpenSSL 3 (for
// SSL_get1_peer_certificate), so its pointer stays null and CivetWeb calls it after every TLS
// handshake: HTTPS on /metrics crashes the coordinator at the first scrape (the stand-alone
// `civetweb` binary crashes the same way). This library's SONAME is libssl.so and it depends on
// the real libssl.so.3: the coordinator loads it before CivetWeb starts (metrics_tls.cc), so
// CivetWeb's dlopen("libssl.so") returns it, finds the missing function here and every other one
// in libssl.so.3.
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {

// The same reference counting as OpenSSL 1.1's: the caller frees the certificate.
X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }

}  // extern "C"

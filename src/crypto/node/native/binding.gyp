# node-gyp build of aes_gcm.node (see aes_gcm.c and build.mjs). It links against the OpenSSL
# that Node itself carries: the headers come with Node's, the symbols from the node binary.
{
  "targets": [
    {
      "target_name": "aes_gcm",
      "sources": ["aes_gcm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}

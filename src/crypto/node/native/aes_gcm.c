// AES-256-GCM of one segment, on libuv's thread pool, into memory the caller provides.
//
// Why this exists (docs/format.md §1.7, docs/development.md "bench:crypto"): node:crypto's
// Cipher.update() allocates and zero-fills a new output buffer on every call, WebCrypto copies
// its input on the calling thread, and worker threads cost a copy and two messages per
// segment. That overhead was larger than AES-GCM itself. No maintained npm package offers
// AES-GCM into caller-owned memory (sodium-native binds only libsodium's ChaCha20 AEADs). This
// file calls the same OpenSSL EVP functions node:crypto calls, from the OpenSSL inside the node
// binary, and nothing else: no format knowledge, no key storage. The format (nonces, AAD,
// segment order) stays in ../../format/sealed-object.ts and ../sealed-stream.ts.
//
// JavaScript interface (native-gcm.ts wraps it):
//   run(op, key, nonce, aad, inputs, output, tag) -> Promise<status>
//     op      0 = seal, 1 = open
//     key     32 bytes; copied here at the call, wiped when the job ends
//     nonce   12 bytes; aad any length (copied at the call)
//     inputs  an array of Uint8Arrays, read in order as one: the plaintext (seal) or the
//             ciphertext without its tag (open). The segment as the stream received it, in
//             pieces, so that nothing is copied together first.
//     output  exactly as long as the inputs together; receives ciphertext (seal) or plaintext
//             (open). It may be the one input itself (in place).
//     tag     16 bytes; seal writes the tag into it, open reads the expected tag from it
//     status  0 = done, 1 = open only: the tag did not verify (output has been wiped),
//             2 = OpenSSL failed
//   The inputs array, output and tag are held (referenced) until the job ends; the caller must
//   not change them meanwhile. Wrong argument types or lengths throw synchronously.

#include <limits.h>
#include <stdio.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LENGTH 32
#define NONCE_LENGTH 12
#define TAG_LENGTH 16
// EVP takes int lengths: longer buffers go through in steps of this many bytes.
#define STEP (1 << 30)

enum { OP_SEAL = 0, OP_OPEN = 1 };
enum { STATUS_DONE = 0, STATUS_AUTHENTICATION_FAILED = 1, STATUS_ERROR = 2 };

typedef struct {
  const unsigned char *data;
  size_t length;
} Piece;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref inputs_ref, output_ref, tag_ref;
  int op;
  int status;
  unsigned char key[KEY_LENGTH];
  unsigned char nonce[NONCE_LENGTH];
  unsigned char *aad;
  size_t aad_length;
  Piece *inputs;
  uint32_t input_count;
  unsigned char *output;
  unsigned char *tag;
  size_t length;
} Job;

static int update_all(EVP_CIPHER_CTX *ctx, int seal, unsigned char *out, const unsigned char *in, size_t length) {
  int n = 0;
  for (size_t done = 0; done < length;) {
    int step = length - done > STEP ? STEP : (int)(length - done);
    int ok = seal ? EVP_EncryptUpdate(ctx, out + done, &n, in + done, step) : EVP_DecryptUpdate(ctx, out + done, &n, in + done, step);
    if (ok != 1 || n != step) return 0;
    done += (size_t)step;
  }
  return 1;
}

// Runs on a thread-pool thread: no N-API calls here.
static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  int seal = job->op == OP_SEAL;
  int n = 0;
  job->status = STATUS_ERROR;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return;
  if ((seal ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, job->key, job->nonce)
            : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, job->key, job->nonce)) != 1) goto done;
  if (job->aad_length > 0) {
    if (job->aad_length > INT_MAX) goto done;
    if ((seal ? EVP_EncryptUpdate(ctx, NULL, &n, job->aad, (int)job->aad_length)
              : EVP_DecryptUpdate(ctx, NULL, &n, job->aad, (int)job->aad_length)) != 1) goto done;
  }
  size_t written = 0;
  for (uint32_t i = 0; i < job->input_count; i++) {
    if (!update_all(ctx, seal, job->output + written, job->inputs[i].data, job->inputs[i].length)) goto done;
    written += job->inputs[i].length;
  }
  if (seal) {
    if (EVP_EncryptFinal_ex(ctx, job->output + job->length, &n) != 1 || n != 0) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LENGTH, job->tag) != 1) goto done;
    job->status = STATUS_DONE;
  } else {
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LENGTH, job->tag) != 1) goto done;
    // GCM's final step checks the tag and writes nothing.
    job->status = EVP_DecryptFinal_ex(ctx, job->output + job->length, &n) == 1 && n == 0 ? STATUS_DONE : STATUS_AUTHENTICATION_FAILED;
  }
done:
  EVP_CIPHER_CTX_free(ctx);  // cleanses the expanded key
  OPENSSL_cleanse(job->key, KEY_LENGTH);
  // Plaintext that did not verify never leaves this function.
  if (!seal && job->status != STATUS_DONE) OPENSSL_cleanse(job->output, job->length);
}

static void release(napi_env env, Job *job) {
  OPENSSL_cleanse(job->key, KEY_LENGTH);
  if (job->inputs_ref) napi_delete_reference(env, job->inputs_ref);
  if (job->output_ref) napi_delete_reference(env, job->output_ref);
  if (job->tag_ref) napi_delete_reference(env, job->tag_ref);
  if (job->work) napi_delete_async_work(env, job->work);
  free(job->aad);
  free(job->inputs);
  free(job);
}

// Back on the JavaScript thread.
static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result;
  if (status == napi_ok) {
    napi_create_int32(env, job->status, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, "AES-GCM job was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  release(env, job);
}

// The bytes of a Uint8Array (Buffer included), or NULL with a TypeError thrown.
static unsigned char *bytes_of(napi_env env, napi_value value, size_t *length, const char *name) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    char message[64];
    snprintf(message, sizeof message, "%s must be a Uint8Array", name);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  // An empty view may have no backing store; give it a valid address all the same.
  static unsigned char empty[1];
  return data ? data : empty;
}

static napi_value fail(napi_env env, Job *job, const char *message) {
  if (message) napi_throw_range_error(env, NULL, message);
  release(env, job);
  return NULL;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != 7) {
    napi_throw_type_error(env, NULL, "run(op, key, nonce, aad, inputs, output, tag) takes 7 arguments");
    return NULL;
  }
  Job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[0], &job->op) != napi_ok || (job->op != OP_SEAL && job->op != OP_OPEN)) {
    return fail(env, job, "op must be 0 (seal) or 1 (open)");
  }
  size_t key_length, nonce_length, aad_length, output_length, tag_length;
  unsigned char *key = bytes_of(env, argv[1], &key_length, "key");
  if (!key) return fail(env, job, NULL);
  unsigned char *nonce = bytes_of(env, argv[2], &nonce_length, "nonce");
  if (!nonce) return fail(env, job, NULL);
  unsigned char *aad = bytes_of(env, argv[3], &aad_length, "aad");
  if (!aad) return fail(env, job, NULL);
  bool is_array = false;
  if (napi_is_array(env, argv[4], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "inputs must be an array of Uint8Arrays");
    return fail(env, job, NULL);
  }
  napi_get_array_length(env, argv[4], &job->input_count);
  job->inputs = calloc(job->input_count > 0 ? job->input_count : 1, sizeof *job->inputs);
  if (!job->inputs) return fail(env, job, "out of memory");
  size_t input_length = 0;
  for (uint32_t i = 0; i < job->input_count; i++) {
    napi_value element;
    if (napi_get_element(env, argv[4], i, &element) != napi_ok) return fail(env, job, "could not read inputs");
    job->inputs[i].data = bytes_of(env, element, &job->inputs[i].length, "every input");
    if (!job->inputs[i].data) return fail(env, job, NULL);
    input_length += job->inputs[i].length;
  }
  unsigned char *output = bytes_of(env, argv[5], &output_length, "output");
  if (!output) return fail(env, job, NULL);
  unsigned char *tag = bytes_of(env, argv[6], &tag_length, "tag");
  if (!tag) return fail(env, job, NULL);
  if (key_length != KEY_LENGTH) return fail(env, job, "key must be 32 bytes");
  if (nonce_length != NONCE_LENGTH) return fail(env, job, "nonce must be 12 bytes");
  if (tag_length != TAG_LENGTH) return fail(env, job, "tag must be 16 bytes");
  if (output_length != input_length) return fail(env, job, "output must be exactly as long as the inputs together");

  memcpy(job->key, key, KEY_LENGTH);
  memcpy(job->nonce, nonce, NONCE_LENGTH);
  if (aad_length > 0) {
    job->aad = malloc(aad_length);
    if (!job->aad) return fail(env, job, "out of memory");
    memcpy(job->aad, aad, aad_length);
  }
  job->aad_length = aad_length;
  job->output = output;
  job->tag = tag;
  job->length = input_length;

  napi_value promise, name;
  if (napi_create_reference(env, argv[4], 1, &job->inputs_ref) != napi_ok ||
      napi_create_reference(env, argv[5], 1, &job->output_ref) != napi_ok ||
      napi_create_reference(env, argv[6], 1, &job->tag_ref) != napi_ok ||
      napi_create_string_utf8(env, "sealpost:aes-gcm", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    return fail(env, job, "could not queue the AES-GCM job");
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    // The promise is never settled; reject it so nothing waits forever.
    napi_value err;
    napi_create_string_utf8(env, "could not queue the AES-GCM job", NAPI_AUTO_LENGTH, &name);
    napi_create_error(env, NULL, name, &err);
    napi_reject_deferred(env, job->deferred, err);
    release(env, job);
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "run", fn) != napi_ok) return NULL;
  return exports;
}

/*  gateway_qr.c — QR images for check-in codes (issue 23): the symbol from libqrencode, the
    PNG from libpng, written into memory. Black on white, a 4-module quiet zone, each module
    8 pixels, so a phone reads it off a screen across a room.  */
#include "gateway.h"

#include <png.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#define S_SCALE 8
#define S_QUIET 4

typedef struct {
    uint8_t *data;
    size_t size, capacity;
} s_buffer_t;

static void
s_write (png_structp png, png_bytep data, png_size_t length)
{
    s_buffer_t *buffer = png_get_io_ptr (png);
    if (buffer->size + length > buffer->capacity) {
        size_t capacity = (buffer->size + length) * 2;
        uint8_t *grown = realloc (buffer->data, capacity);
        if (!grown)
            png_error (png, "out of memory");
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy (buffer->data + buffer->size, data, length);
    buffer->size += length;
}

static void
s_flush (png_structp png)
{
    (void) png;
}

int
gw_qr_png (const char *text, uint8_t **png_out, size_t *size, st_error_t *err)
{
    QRcode *code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!code)
        return st_error_set (err, ST_INTERNAL, NULL, "the QR code could not be made"), -1;
    int modules = code->width + 2 * S_QUIET;
    png_uint_32 pixels = (png_uint_32) (modules * S_SCALE);
    s_buffer_t buffer = {0};
    png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    uint8_t *row = st_calloc (1, (pixels + 7) / 8);
    if (!png || !info || setjmp (png_jmpbuf (png))) {
        png_destroy_write_struct (&png, &info);
        QRcode_free (code);
        free (row);
        free (buffer.data);
        return st_error_set (err, ST_INTERNAL, NULL, "the QR image could not be written"), -1;
    }
    png_set_write_fn (png, &buffer, s_write, s_flush);
    //  One bit a pixel, 1 white: the smallest PNG a QR code makes.
    png_set_IHDR (png, info, pixels, pixels, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                  PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info (png, info);
    for (int y = 0; y < modules; y++) {
        memset (row, 0, (pixels + 7) / 8);
        for (int x = 0; x < modules; x++) {
            int qx = x - S_QUIET, qy = y - S_QUIET;
            bool dark = qx >= 0 && qy >= 0 && qx < code->width && qy < code->width
                        && (code->data[qy * code->width + qx] & 1);
            if (dark)
                continue;
            for (int p = x * S_SCALE; p < (x + 1) * S_SCALE; p++)
                row[p / 8] |= (uint8_t) (0x80 >> (p % 8));
        }
        for (int repeat = 0; repeat < S_SCALE; repeat++)
            png_write_row (png, row);
    }
    png_write_end (png, NULL);
    png_destroy_write_struct (&png, &info);
    QRcode_free (code);
    free (row);
    *png_out = buffer.data;
    *size = buffer.size;
    return 0;
}

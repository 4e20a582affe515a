"""Hooks for the API fuzz test: report uploads are raw message/rfc822 bytes, sent like octet-stream."""

import schemathesis

schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

//! Tests of the use cases over the ports' mocks.

// Package systemtest holds the end-to-end tests: the whole system (API,
// worker behind the event source mapping, sweep) running against the local
// emulators, driven over real HTTP and through the Lambda adapters.
package systemtest

package stream

// KickRecheck is kickRecheck, for the tests.
const KickRecheck = kickRecheck

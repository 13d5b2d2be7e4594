package applab

// Interrupted is the hook RegisterJobs gives the job queue for a scan whose
// process died.
var Interrupted = (*Lab).interrupted

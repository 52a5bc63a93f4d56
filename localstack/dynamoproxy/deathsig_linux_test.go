package dynamoproxy

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel stop the child if the test binary
// dies without cleaning up.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

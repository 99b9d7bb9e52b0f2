"""SIGTERM / SIGINT ask a training loop to save and stop at the end of its step (a session ends with `pkill -TERM`)."""
import signal


def stop_requested(tag):
    """A dict whose "flag" turns True on SIGTERM or SIGINT; the loop checks it once per step."""
    stop = {"flag": False}

    def on_signal(sig, _frm):
        print(f"[{tag}] signal {sig}: saving and stopping", flush=True)
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop

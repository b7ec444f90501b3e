;;; harness.el --- What every Emacs scenario shares  -*- lexical-binding: t; -*-

;;; Commentary:

;; The test (runner.py) passes everything in CLINE_BRIDGE_TEST_* environment
;; variables.  This file sets the documented options as a user's init file
;; would, then `require's docs/editors/cline-bridge.el, the file users copy.
;; A scenario runs its steps in `cbt-run', records what it saw with
;; `cbt-record' and returns; `cbt-run' then stops every cline-bridge server,
;; waits for it to exit, writes the record as JSON to CLINE_BRIDGE_TEST_RESULT
;; and quits Emacs.  An error and the deadline end the run the same way, with
;; "error" set.  Batch Emacs has no command loop: the steps wait in
;; `accept-process-output', during which Eglot's handlers and timers run.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'subr-x)

(defun cbt--env (name &optional optional)
  "The value of the environment variable NAME; an error if unset, unless OPTIONAL."
  (let ((value (getenv name)))
    (cond ((and value (not (string-empty-p value))) value)
          (optional nil)
          (t (error "The test did not set %s" name)))))

(defun cbt--json-env (name)
  "NAME's value parsed as JSON (objects as plists, arrays as vectors), or nil."
  (let ((value (cbt--env name t)))
    (and value (json-parse-string value :object-type 'plist :array-type 'array))))

(defvar cbt-result-path (cbt--env "CLINE_BRIDGE_TEST_RESULT"))
(defvar cbt-workspace (file-name-as-directory (cbt--env "CLINE_BRIDGE_TEST_WORKSPACE")))
(defvar cbt-prompt (cbt--env "CLINE_BRIDGE_TEST_PROMPT" t))
(defvar cbt-deadline
  (+ (float-time) (/ (string-to-number (cbt--env "CLINE_BRIDGE_TEST_TIMEOUT_MS")) 1000.0)))
(defvar cbt-started (float-time))
(defvar cbt--result nil "The record, an alist with string keys, newest first.")
(defvar cbt--messages nil "What the echo area showed, newest first.")

(defun cbt-record (key value)
  "Record VALUE under KEY (a string) in the result; lists must be vectors."
  (setq cbt--result (cons (cons key value) (assoc-delete-all key cbt--result))))

(defun cbt-get (key)
  "The value recorded under KEY."
  (cdr (assoc key cbt--result)))

(defun cbt-elapsed-ms ()
  (round (* 1000 (- (float-time) cbt-started))))

;; What the documented file shows the user (with `message') is part of the result.
(advice-add 'message :before
            (lambda (format-string &rest args)
              (when format-string
                (push (apply #'format-message format-string args) cbt--messages))))

;; The documented configuration, set the way its Commentary says: before the `require'.
(let ((acp (cbt--json-env "CLINE_BRIDGE_TEST_ACP"))
      (extra (cbt--json-env "CLINE_BRIDGE_TEST_INIT_OPTIONS")))
  (when (or acp extra)
    (setq cline-bridge-init-options (append (and acp (list :acp acp)) extra))))
(add-to-list 'load-path (file-name-directory (cbt--env "CLINE_BRIDGE_TEST_MODULE")))
(require 'cline-bridge)

(defun cbt-wait (what predicate &optional seconds)
  "Process input until PREDICATE holds; fail after SECONDS (or the deadline) saying WHAT."
  (let* ((start (float-time))
         (until (min cbt-deadline (+ start (or seconds 3600)))))
    (while (not (funcall predicate))
      (when (> (float-time) until)
        (error "No %s within %.1f s" what (- until start)))
      (accept-process-output nil 0.05))))

(defun cbt-managed-by-cline-bridge ()
  "Whether Eglot manages this buffer with a cline-bridge server."
  (and (bound-and-true-p eglot--managed-mode)
       (cl-typep (eglot-current-server) 'cline-bridge-server)))

(defun cbt--stop-servers ()
  "Shut every cline-bridge server down; record how each process ended."
  (let (exits stderr)
    (dolist (server cline-bridge--servers)
      (let ((process (jsonrpc--process server)))
        ;; Eglot kills the buffer with the sidecar's log: keep it for the test's messages.
        (push (with-current-buffer (jsonrpc-stderr-buffer server) (buffer-string)) stderr)
        ;; The timeout is for the answer to `shutdown'; after `exit' Eglot 1.9 kills the
        ;; process at once, as it does for a user.
        (ignore-errors (eglot-shutdown server nil 10))
        (push `(("status" . ,(symbol-name (process-status process)))
                ("code" . ,(process-exit-status process)))
              exits)))
    (cbt-record "server_stderr" (vconcat stderr))
    (cbt-record "server_exits" (vconcat exits))))

(defun cbt--write-result ()
  (let ((part (concat cbt-result-path ".part")))
    (with-temp-file part
      (insert (json-encode cbt--result)))
    (rename-file part cbt-result-path t)))

(defun cbt-run (main)
  "Run MAIN, stop the servers, write the result and quit Emacs."
  (condition-case err
      (funcall main)
    (error (cbt-record "error" (error-message-string err))))
  (condition-case err
      (cbt--stop-servers)
    (error (cbt-record "stop_error" (error-message-string err))))
  (cbt-record "messages" (vconcat (reverse cbt--messages)))
  (cbt-record "elapsed_ms" (cbt-elapsed-ms))
  (condition-case err
      (cbt--write-result)
    (error (princ (format "could not write the result: %S\n" err) #'external-debugging-output)))
  (kill-emacs 0))

(provide 'harness)
;;; harness.el ends here

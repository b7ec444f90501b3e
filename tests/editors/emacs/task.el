;;; task.el --- A task through the real agent, approved from Emacs  -*- lexical-binding: t; -*-

;;; Commentary:

;; A shell script buffer (sh-mode, one of `cline-bridge-modes') is handed
;; to cline-bridge with `M-x eglot'.  `cline-bridge-task' (what `M-x' runs)
;; starts the test's prompt; or, given CLINE_BRIDGE_TEST_CODE_ACTION, that
;; action is chosen in `M-x eglot-code-actions' over the first two lines, and
;; Eglot runs its command itself.  Every request Cline makes is approved as a
;; user typing `M-x cline-bridge-approve' would (from a timer: a user acts
;; from the command loop, not from inside Eglot's handler).  The run ends when
;; a turn is over with nothing left (state idle), or on an error event in
;; state failed, so that the test sees what went wrong.

;;; Code:

(load (getenv "CLINE_BRIDGE_TEST_HARNESS") nil t)

(defvar task-events nil "The task events, newest first.")
(defvar task-approvals nil "What each approval answered, newest first.")
(defvar task-requests nil "The server-to-client requests Eglot handled, newest first.")
(defvar task-done nil "Non-nil once the task's turn is over, or it failed.")

(defun task-approve (ask-id)
  "Answer the request ASK-ID with `M-x cline-bridge-approve'; record the answer."
  (let ((answer (condition-case err
                    `(("result" . ,(call-interactively #'cline-bridge-approve)))
                  (error `(("error" . ,(error-message-string err)))))))
    (push `(("askId" . ,ask-id) ,@answer) task-approvals)))

(defun task-on-event (event)
  "Record EVENT; approve requests; note the end of the task."
  (push event task-events)
  (let ((kind (plist-get event :kind))
        (state (plist-get event :state)))
    (cond ((equal kind "approval")
           (run-at-time 0 nil #'task-approve (plist-get event :askId)))
          ((and (equal kind "turnEnd") (equal state "idle"))
           (setq task-done t))
          ((and (equal kind "error") (equal state "failed"))
           (setq task-done t)))))

(add-hook 'cline-bridge-event-functions #'task-on-event)
;; Eglot 1.9 declares no `window.showMessage': no approval dialog should come.
(advice-add 'eglot-handle-request :before
            (lambda (_server method &rest _) (push (format "%s" method) task-requests)))

(defvar task-code-action (getenv "CLINE_BRIDGE_TEST_CODE_ACTION"))

(defun task-start-with-code-action ()
  "Choose `task-code-action' in the menu over lines 1-2, as a user would."
  (transient-mark-mode 1)
  (goto-char (point-min))
  (push-mark (point) t t)
  (forward-line 2)
  (cl-letf (((symbol-function 'completing-read)
             (lambda (_prompt collection &rest _)
               (cbt-record "menu" (vconcat (mapcar #'car collection)))
               task-code-action)))
    ;; As typed: Eglot shows a mouse menu instead when the last event was not a key.
    (let ((last-nonmenu-event ?\r))
      (call-interactively #'eglot-code-actions)))
  t)

(cbt-run
 (lambda ()
   (unless (or cbt-prompt task-code-action)
     (error "The task scenario needs CLINE_BRIDGE_TEST_PROMPT or _CODE_ACTION"))
   (find-file (expand-file-name "build.sh" cbt-workspace))
   (cbt-record "major_mode" (symbol-name major-mode))
   (call-interactively #'eglot)
   (cbt-wait "cline-bridge managing build.sh" #'cbt-managed-by-cline-bridge 15)
   (let ((start (condition-case err
                    (if task-code-action
                        (task-start-with-code-action)
                      (cline-bridge-task cbt-prompt))
                  (error (cbt-record "start_error" (error-message-string err)) nil))))
     (cbt-record "start" start)
     (when start
       (cbt-wait "end of the task's turn" (lambda () task-done))))
   (cbt-record "events" (vconcat (reverse task-events)))
   (cbt-record "approvals" (vconcat (reverse task-approvals)))
   (cbt-record "requests" (vconcat (reverse task-requests)))
   (cbt-record "log" (with-current-buffer (get-buffer-create cline-bridge-log-buffer)
                       (buffer-string)))))

;;; task.el ends here

;;; cline-bridge.el --- Cline's agent in Eglot  -*- lexical-binding: t; -*-

;;; Commentary:

;; Cline's coding agent in Emacs: Eglot starts `cline-bridge serve' as a
;; language server, which runs each task in the Cline CLI (`cline --acp').
;; For Emacs 28 with the `eglot' package (Debian 12: emacs-nox 28.2 and
;; elpa-eglot 1.9) and for the Eglot built into Emacs 29 and later.
;;
;; Install: copy this file to ~/.emacs.d/lisp/cline-bridge.el, then in your
;; init file:
;;
;;   (add-to-list 'load-path (locate-user-emacs-file "lisp"))
;;   ;; Optional, before the `require' (these are the defaults):
;;   ;; (setq cline-bridge-program '("cline-bridge" "serve"))
;;   ;; (setq cline-bridge-init-options '(:acp (:command ["cline" "--acp"])))
;;   ;; (setq cline-bridge-modes '(markdown-mode sh-mode))
;;   (require 'cline-bridge)
;;
;; Then `M-x eglot' in a buffer of `cline-bridge-modes', or
;; `M-x cline-bridge-here' in any file buffer.  Commands: `cline-bridge-task',
;; `cline-bridge-send', `cline-bridge-approve', `cline-bridge-reject',
;; `cline-bridge-status', `cline-bridge-log'.  Code actions ("Cline: explain",
;; "Cline: fix", "Cline: improve"): `M-x eglot-code-actions' on the region.
;;
;; This is the very file the project's Emacs test loads (tests/editors/emacs/).

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'project)
(require 'subr-x)

(defgroup cline-bridge nil
  "Cline's agent through the cline-bridge language server."
  :group 'tools
  :prefix "cline-bridge-")

(defcustom cline-bridge-program '("cline-bridge" "serve")
  "How Eglot starts the sidecar: the program, then its arguments.
For an interpreter of your choice:
\(\"python3\" \"-m\" \"cline_bridge\" \"serve\")."
  :type '(repeat string))

(defcustom cline-bridge-init-options '(:acp (:command ["cline" "--acp"]))
  "The LSP initializationOptions: a plist, sent as a JSON object.
`:acp' says how the sidecar starts the Cline CLI: `:command', a
vector, program first, and `:env', a plist of environment variables
for it, such as (:CLINE_API_KEY \"...\").  Other keys: `:model',
`:apiBaseUrl', `:control' (see docs/protocol.md)."
  :type 'sexp)

(defcustom cline-bridge-modes '(markdown-mode sh-mode)
  "Major modes whose buffers `M-x eglot' hands to cline-bridge.
Eglot gives a buffer one server, and an entry of
`eglot-server-programs' also takes every mode derived from the
modes it lists.  So list only modes you run no other language
server for, and never a parent such as `text-mode' (it would take
`org-mode', `html-mode', `latex-mode', `rst-mode', `nxml-mode'...)
or `prog-mode'.  Set it before loading this file.  In other
buffers, `M-x cline-bridge-here' attaches cline-bridge on request."
  :type '(repeat symbol))

(defvar cline-bridge-event-functions nil
  "Functions called with each task event, a plist.
For example (:kind \"approval\" :title \"...\" :state ...).  They
run after the event is logged, inside Eglot's handler: do no
blocking work there (use a timer).")

(defvar cline-bridge-state nil
  "The task's state from the last event.
\"running\", \"awaitingApproval\", \"idle\" or \"failed\".")

;; A class of our own marks cline-bridge's servers: the commands find one
;; from any buffer (the *cline* log included), and the event handler below
;; applies to them only.
(defclass cline-bridge-server (eglot-lsp-server) ()
  :documentation "An Eglot connection to `cline-bridge serve'.")

(defun cline-bridge-contact (&optional _interactive)
  "Return the contact for `eglot-server-programs'.
It is read each time a server starts, so the options can change."
  `(cline-bridge-server ,@cline-bridge-program
                        :initializationOptions ,cline-bridge-init-options))

(add-to-list 'eglot-server-programs
             (cons cline-bridge-modes #'cline-bridge-contact))

;;; Finding the server

(defvar cline-bridge--servers nil
  "The cline-bridge servers Eglot connected, newest first.")

(defun cline-bridge--remember (server)
  "Note SERVER if it is a cline-bridge one."
  (when (cl-typep server 'cline-bridge-server)
    (push server cline-bridge--servers)))

(add-hook 'eglot-connect-hook #'cline-bridge--remember)

(defun cline-bridge--server ()
  "Return this buffer's cline-bridge server, else the last one started."
  (setq cline-bridge--servers
        (cl-remove-if-not #'jsonrpc-running-p cline-bridge--servers))
  (let ((here (eglot-current-server)))
    (or (and (cl-typep here 'cline-bridge-server) (jsonrpc-running-p here)
             here)
        (car cline-bridge--servers)
        (user-error "No cline-bridge server: `M-x eglot' in a buffer of \
`cline-bridge-modes', or `M-x cline-bridge-here'"))))

(defun cline-bridge-here ()
  "Hand this buffer's major mode, in this project, to cline-bridge.
Eglot gives a buffer one server, so this stops the usual one, if
any: `M-x eglot-shutdown' of cline-bridge, then `M-x eglot', brings
it back."
  (interactive)
  (unless buffer-file-name
    (user-error "Only file buffers can use cline-bridge"))
  (let ((current (eglot-current-server)))
    (if (cl-typep current 'cline-bridge-server)
        (message "cline-bridge already manages this buffer")
      (when current
        (eglot-shutdown current))
      ;; Called with arguments, not interactively: then it never asks which
      ;; server to use, and works alike in Eglot 1.9 (which takes one mode
      ;; and one language id) and later versions (which take lists).
      (eglot (list major-mode)
             (or (project-current) (cons 'transient default-directory))
             'cline-bridge-server
             (cdr (cline-bridge-contact))
             (string-remove-suffix "-mode" (symbol-name major-mode))))))

;;; Commands

(defun cline-bridge-execute (command &rest arguments)
  "Run COMMAND (\"clineBridge.x\") with ARGUMENTS; return its result."
  (jsonrpc-request (cline-bridge--server) :workspace/executeCommand
                   (list :command command :arguments (vconcat arguments))))

(defun cline-bridge--report (result)
  "Echo what a task command did, and return RESULT."
  (message "cline-bridge: %s" (or (plist-get result :action) result))
  result)

(defun cline-bridge-task (text)
  "Start a new Cline task with TEXT, in place of the running one."
  (interactive "sCline task: ")
  (cline-bridge--report (cline-bridge-execute "clineBridge.startNewTask" text)))

(defun cline-bridge-send (text)
  "Send TEXT to the Cline task (queued while a turn is running)."
  (interactive "sMessage to Cline: ")
  (cline-bridge--report (cline-bridge-execute "clineBridge.sendMessage" text)))

(defun cline-bridge-approve ()
  "Approve Cline's pending request."
  (interactive)
  (cline-bridge--report
   (cline-bridge-execute "clineBridge.pressPrimaryButton")))

(defun cline-bridge-reject ()
  "Reject Cline's pending request."
  (interactive)
  (cline-bridge--report
   (cline-bridge-execute "clineBridge.pressSecondaryButton")))

(defun cline-bridge-status ()
  "Show the sidecar's status: the host, the version, the folders."
  (interactive)
  (let ((status (cline-bridge-execute "clineBridge.status")))
    (when (called-interactively-p 'interactive)
      (message "%S" status))
    status))

;;; Task events

(defconst cline-bridge-log-buffer "*cline*"
  "The buffer that collects the task events.")

(defun cline-bridge-log ()
  "Show the task events of this session."
  (interactive)
  (display-buffer (get-buffer-create cline-bridge-log-buffer)))

(defun cline-bridge--describe (event)
  "Return a line about EVENT for the log, and whether to echo it."
  (cl-destructuring-bind (&key kind text title message turn stopReason outcome
                               source toolKind status &allow-other-keys)
      event
    (pcase kind
      ("started" (list (format "Task started: %s" text) t))
      ("message" (list (format "Cline: %s" text) t))
      ("thought" (list (format "Thinking: %s" text) nil))
      ("toolCall" (list (format "Tool %s (%s): %s" toolKind status title) nil))
      ("approval"
       (list (format "Cline wants to %s: M-x cline-bridge-approve or \
cline-bridge-reject" title) t))
      ("approvalResolved" (list (format "%s (%s)" outcome source) nil))
      ("turnEnd"
       (list (format "Turn %s over (%s); reply with M-x cline-bridge-send"
                     turn stopReason) t))
      ("error" (list (format "Cline error: %s" message) t))
      (_ (list (format "%s event" kind) nil)))))

(cl-defmethod eglot-handle-notification
  ((_server cline-bridge-server) (_method (eql clineBridge/taskEvent))
   &rest event &key state &allow-other-keys)
  "Log a task EVENT in *cline*; echo messages, requests, turn ends, errors.
STATE is the task's state after the event."
  (setq cline-bridge-state state)
  (pcase-let ((`(,line ,notable) (cline-bridge--describe event)))
    (with-current-buffer (get-buffer-create cline-bridge-log-buffer)
      (save-excursion
        (goto-char (point-max))
        (insert (format "[%s] %s\n" state line))))
    (when notable
      ;; The first line only: Cline's messages can be long.
      (message "%s" (car (split-string (string-trim line) "\n")))))
  (run-hook-with-args 'cline-bridge-event-functions event))

(provide 'cline-bridge)
;;; cline-bridge.el ends here

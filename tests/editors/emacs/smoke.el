;;; smoke.el --- Modes, attaching on request, code actions  -*- lexical-binding: t; -*-

;;; Commentary:

;; The documented file is loaded; the scenario checks which major modes its
;; `eglot-server-programs' entry takes, attaches a Python buffer (a mode the
;; entry leaves to its usual server) with `cline-bridge-here', asks the status,
;; and opens Eglot's code action menu on a region as `M-x eglot-code-actions'
;; does, choosing "Cline: fix" there.  The Cline CLI command (from the test)
;; resolves but is never started: the command the choice runs is recorded,
;; not sent.

;;; Code:

(load (getenv "CLINE_BRIDGE_TEST_HARNESS") nil t)

(defconst smoke-probed-modes
  '(org-mode html-mode mhtml-mode latex-mode rst-mode nxml-mode text-mode
    python-mode sh-mode)
  "Modes to look up: all but `sh-mode' (which the entry takes) must go elsewhere.")

(defun smoke-taken-modes ()
  "Every known major mode that the cline-bridge entry would take, sorted."
  (let (modes)
    (mapatoms (lambda (symbol)
                (when (and (get symbol 'derived-mode-parent)
                           (eq (nth 2 (eglot--lookup-mode symbol))
                               #'cline-bridge-contact))
                  (push (symbol-name symbol) modes))))
    (vconcat (sort modes #'string<))))

(defun smoke-menu (command)
  "Run COMMAND interactively on the region; record the menu and what ran.
The menu's answer is \"Cline: fix\"; the command it would run is recorded, not sent."
  (let (menu executed)
    (cl-letf (((symbol-function 'completing-read)
               (lambda (prompt collection &rest _)
                 (setq menu `(("prompt" . ,prompt)
                              ("titles" . ,(vconcat (mapcar #'car collection)))))
                 "Cline: fix"))
              ((symbol-function 'eglot-execute-command)
               (lambda (_server command arguments)
                 (setq executed `(("command" . ,(format "%s" command))
                                  ("arguments" . ,arguments))))))
      ;; As typed: Eglot shows a mouse menu instead when the last event was not a key.
      (let ((last-nonmenu-event ?\r))
        (call-interactively command)))
    `(("menu" . ,menu) ("executed" . ,executed))))

(cbt-run
 (lambda ()
   ;; The libraries of the modes a `text-mode' entry would have taken.
   (dolist (library '(org sgml-mode mhtml-mode tex-mode rst nxml-mode python sh-script))
     (require library))
   (cbt-record "taken_modes" (smoke-taken-modes))
   (cbt-record "probed"
               (mapcar (lambda (mode)
                         (cons (symbol-name mode)
                               (eq (nth 2 (eglot--lookup-mode mode)) #'cline-bridge-contact)))
                       smoke-probed-modes))
   (find-file (expand-file-name "shop.py" cbt-workspace))
   (cbt-record "major_mode" (symbol-name major-mode))
   (call-interactively #'cline-bridge-here)
   (cbt-wait "cline-bridge managing shop.py" #'cbt-managed-by-cline-bridge 15)
   (cbt-record "server_name" (plist-get (eglot--server-info (eglot-current-server)) :name))
   (cbt-record "language_id" (eglot--language-id (eglot-current-server)))
   (cbt-record "status" (cline-bridge-status))
   (cbt-record "actions"
               (vconcat (eglot-code-actions (point-min) (point-max))))
   ;; Lines 2-5 selected, as with C-SPC and the arrows.
   (transient-mark-mode 1)
   (goto-char (point-min))
   (forward-line 1)
   (push-mark (point) t t)
   (forward-line 4)
   (cbt-record "code_actions" (smoke-menu #'eglot-code-actions))
   (cbt-record "quickfix" (smoke-menu #'eglot-code-action-quickfix))))

;;; smoke.el ends here
